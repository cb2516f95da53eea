"""Schema migrations and the console commands, on every backend:
``placement-manage db sync`` (twice is a no-op), ``db version``,
``placement-status upgrade check``, the migrated schema against
placement/db/tables.py, and the standard data sync."""

import json
import os
import subprocess
import sys

import os_resource_classes
import os_traits
import pytest
import sqlalchemy as sa
from alembic import autogenerate
from alembic import migration

from placement.cmd import api
from placement.cmd import manage
from placement.cmd import status
from placement.db import sync
from placement.db import tables
from tests import databases

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def config_file(database_url, tmp_path):
    return databases.write_config(str(tmp_path / 'placement.conf'),
                                  database_url)


def run(command, config_file, *args):
    """Run a console command as an installed script would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run(
        [os.path.join(BIN, command), '--config-file', config_file, *args],
        capture_output=True, text=True, timeout=120, env=env)


def call(main, config_file, *args, capsys):
    """Run a console command's ``main`` in this process: (exit code,
    what it printed)."""
    code = main(['--config-file', config_file, *args])
    return code, capsys.readouterr().out


def snapshot(url):
    """Everything ``db sync`` may create: tables, columns, indexes,
    unique constraints, the revision and the standard rows."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        shape = {}
        for table in sorted(inspector.get_table_names()):
            shape[table] = (
                [(c['name'], str(c['type'])) for c in
                 inspector.get_columns(table)],
                sorted((i['name'], tuple(i['column_names']))
                       for i in inspector.get_indexes(table)),
                sorted((u['name'], tuple(u['column_names']))
                       for u in inspector.get_unique_constraints(table)))
        with engine.connect() as conn:
            rows = {name: conn.execute(sa.select(t.c.id, t.c.name)
                                       .order_by(t.c.id)).all()
                    for name, t in (('traits', tables.traits),
                                    ('resource_classes',
                                     tables.resource_classes))}
            revision = migration.MigrationContext.configure(
                conn).get_current_revision()
        return shape, rows, revision
    finally:
        engine.dispose()


def test_db_sync_twice_is_a_noop(database_url, config_file, capsys):
    first = call(manage.main, config_file, 'db', 'sync', capsys=capsys)
    assert first == (0, 'Database is at revision %s\n' % sync.head_revision())
    before = snapshot(database_url)
    shape, rows, revision = before
    assert revision == sync.head_revision()
    assert {t.name for t in tables.metadata.sorted_tables} <= set(shape)
    assert len(rows['traits']) == len(os_traits.get_traits())
    assert len(rows['resource_classes']) == len(
        os_resource_classes.STANDARDS)
    second = call(manage.main, config_file, 'db', 'sync', capsys=capsys)
    assert second == first
    assert snapshot(database_url) == before


def test_db_version(config_file, capsys):
    assert call(manage.main, config_file, 'db', 'version',
                capsys=capsys) == (0, 'None\n')
    call(manage.main, config_file, 'db', 'sync', capsys=capsys)
    assert call(manage.main, config_file, 'db', 'version',
                capsys=capsys) == (0, sync.head_revision() + '\n')


def test_db_stamp(config_file, capsys):
    call(manage.main, config_file, 'db', 'sync', capsys=capsys)
    assert call(manage.main, config_file, 'db', 'stamp', '0001',
                capsys=capsys)[0] == 0
    assert call(manage.main, config_file, 'db', 'version',
                capsys=capsys) == (0, '0001\n')
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        'nonsense']) == 1
    assert "Can't locate revision identified by 'nonsense'" in \
        capsys.readouterr().err
    assert call(manage.main, config_file, 'db', 'version',
                capsys=capsys) == (0, '0001\n')


def test_status_upgrade_check(config_file, capsys):
    code, out = call(status.main, config_file, 'upgrade', 'check', '--json',
                     capsys=capsys)
    checks = {c['check']: c for c in json.loads(out)['checks']}
    assert code == 2, out
    assert checks['Database Schema']['result'] == 2
    assert 'placement-manage db sync' in checks['Database Schema']['details']
    # Without tables, the data checks are not made.
    assert checks['Missing Root Provider IDs']['result'] == 1
    call(manage.main, config_file, 'db', 'sync', capsys=capsys)
    code, out = call(status.main, config_file, 'upgrade', 'check',
                     capsys=capsys)
    assert code == 0, out
    assert out.count('Result: Success') == 4, out


@pytest.mark.parametrize('retries', [0, 2])
def test_status_unreachable_database(tmp_path, capsys, caplog, retries):
    """Tried ``max_retries`` more times, as at start-up, then reported."""
    config_file = databases.write_config(
        str(tmp_path / 'placement.conf'),
        'postgresql+psycopg2://nobody@127.0.0.1:1/none',
        {'placement_database': {'max_retries': retries,
                                'retry_interval': 0}})
    code, out = call(status.main, config_file, 'upgrade', 'check',
                     capsys=capsys)
    assert code == 2
    assert 'Cannot read the database' in out
    waits = [r for r in caplog.records
             if 'Cannot reach the database' in r.getMessage()]
    assert len(waits) == retries


def test_console_scripts(config_file):
    """The installed commands, as an operator runs them."""
    synced = run('placement-manage', config_file, 'db', 'sync')
    assert synced.returncode == 0, synced.stderr
    version = run('placement-manage', config_file, 'db', 'version')
    assert (version.returncode, version.stdout) == (
        0, sync.head_revision() + '\n')
    checked = run('placement-status', config_file, 'upgrade', 'check')
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'Result: Success' in checked.stdout


def test_migrations_create_exactly_the_tables(empty_database):
    """The migrated schema has every table, column, index and unique
    constraint of placement/db/tables.py and nothing else."""
    sync.upgrade(empty_database)
    with empty_database.engine.connect() as conn:
        context = migration.MigrationContext.configure(
            conn, opts={'compare_type': True})
        diffs = autogenerate.compare_metadata(context, tables.metadata)
    assert diffs == []


def test_standard_sync_is_idempotent(empty_database):
    sync.upgrade(empty_database)

    def rows(conn):
        return {name: conn.execute(sa.select(t.c.id, t.c.name)
                                   .order_by(t.c.id)).all()
                for name, t in (('traits', tables.traits),
                                ('resource_classes',
                                 tables.resource_classes))}

    assert empty_database.read(rows) == {'traits': [],
                                         'resource_classes': []}
    sync.sync_standard(empty_database)
    first = empty_database.read(rows)
    assert sorted(n for _, n in first['traits']) == sorted(
        os_traits.get_traits())
    assert sorted(n for _, n in first['resource_classes']) == sorted(
        os_resource_classes.STANDARDS)
    # A custom entry and a removed standard one: the sync adds back what
    # is missing and leaves everything else (ids included) alone.
    first_trait_id, first_trait = first['traits'][0]

    def edit(conn):
        conn.execute(sa.insert(tables.traits).values(name='CUSTOM_KEEP'))
        conn.execute(sa.delete(tables.traits)
                     .where(tables.traits.c.id == first_trait_id))
    empty_database.write(edit)
    sync.sync_standard(empty_database)
    sync.sync_standard(empty_database)
    second = empty_database.read(rows)
    assert second['resource_classes'] == first['resource_classes']
    kept = {n: i for i, n in second['traits']}
    assert 'CUSTOM_KEEP' in kept
    assert first_trait in kept
    for trait_id, name in first['traits'][1:]:
        assert kept[name] == trait_id
    assert len(second['traits']) == len(first['traits']) + 1


@pytest.mark.parametrize('command', ['manage', 'api'])
@pytest.mark.parametrize('content, expected', [
    (None, 'Failed to find some config files'),
    ('[placement_database\nconnection = x\n', 'Failed to parse'),
])
def test_a_bad_config_file_is_a_one_line_error(tmp_path, capsys, command,
                                               content, expected):
    path = tmp_path / 'placement.conf'
    if content is not None:
        path.write_text(content)
    main = manage.main if command == 'manage' else api.main
    args = ['--config-file', str(path)]
    with pytest.raises(SystemExit) as exited:
        main(args + (['db', 'version'] if command == 'manage' else []))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('placement-%s: error: ' % command), err
    assert expected in err
    assert 'Traceback' not in err
