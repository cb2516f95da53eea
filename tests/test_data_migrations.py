"""``placement-manage db online_data_migrations`` on every backend: rows
older OpenStack Placement releases left (providers without a root,
allocations without a consumer) are repaired in batches, and the exit
code tells whether anything is left."""

import json

import sqlalchemy as sa

from placement.cmd import manage
from placement.cmd import status
from placement.db import tables
from tests import databases

RP = tables.resource_providers
CONSUMER = '9d3c1b2a-0f4e-4d5c-8b7a-6e5f4d3c2b1a'
OTHER_CONSUMER = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'
NOBODY = '00000000-0000-0000-0000-000000000000'


def left_behind(db):
    """A tree of three providers and a lone one, none with a root, and
    allocations of two consumers that have no row; answers the ids of
    the tree from the top and of the lone provider."""
    def write(conn):
        ids = []
        parent = None
        for name in ('top', 'middle', 'bottom', 'lone'):
            if name == 'lone':
                parent = None
            new = conn.execute(sa.insert(RP).values(
                uuid='00000000-0000-4000-8000-%012d' % len(ids), name=name,
                generation=1, parent_provider_id=parent)
            ).inserted_primary_key[0]
            ids.append(new)
            parent = new
        conn.execute(sa.insert(tables.inventories).values(
            resource_provider_id=ids[0], resource_class_id=_class_id(conn),
            total=8, reserved=0, min_unit=1, max_unit=8, step_size=1,
            allocation_ratio=1.0))
        conn.execute(sa.insert(tables.allocations), [
            {'resource_provider_id': ids[0], 'consumer_id': uuid,
             'resource_class_id': _class_id(conn), 'used': 1}
            for uuid in (CONSUMER, CONSUMER, OTHER_CONSUMER)])
        return ids
    return db.write(write)


def _class_id(conn):
    return conn.execute(sa.select(tables.resource_classes.c.id).where(
        tables.resource_classes.c.name == 'VCPU')).scalar_one()


def roots(db):
    return dict(db.read(lambda conn: conn.execute(
        sa.select(RP.c.id, RP.c.root_provider_id)).all()))


def consumers(db):
    def read(conn):
        c, p, u = tables.consumers, tables.projects, tables.users
        return {row[0]: row[1:] for row in conn.execute(
            sa.select(c.c.uuid, p.c.external_id, u.c.external_id,
                      c.c.generation)
            .join(p, p.c.id == c.c.project_id)
            .join(u, u.c.id == c.c.user_id)).all()}
    return db.read(read)


def table(out):
    """{migration: (found, completed)} of the table printed."""
    rows = [[cell.strip() for cell in line.split('|')[1:-1]]
            for line in out.splitlines() if line.startswith('|')]
    assert rows[0] == ['Migration', 'Total Found', 'Completed']
    return {name: (int(found), int(completed))
            for name, found, completed in rows[1:]}


def check(config_file, capsys):
    """(exit code, {check: result code}) of placement-status upgrade
    check."""
    capsys.readouterr()
    code = status.main(['--config-file', config_file, 'upgrade', 'check',
                        '--json'])
    return code, {c['check']: c['result'] for c in json.loads(
        capsys.readouterr().out)['checks']}


def run(config_file, *args):
    return manage.main(['--config-file', config_file, 'db',
                        'online_data_migrations', *args])


def test_online_data_migrations(database, database_url, tmp_path, capsys):
    config_file = databases.write_config(str(tmp_path / 'placement.conf'),
                                         database_url)
    top, middle, bottom, lone = left_behind(database)
    assert check(config_file, capsys) == (2, {
        'Database Schema': 0, 'Missing Root Provider IDs': 2,
        'Incomplete Consumers': 1, 'Policy File JSON to YAML Migration': 0})

    # One row at most: the first provider (by id) gets its root.
    assert run(config_file, '--max-count', '1') == 1
    assert table(capsys.readouterr().out) == {
        'set_root_provider_ids': (4, 1)}
    assert roots(database)[top] == top
    assert roots(database)[middle] is None
    assert consumers(database) == {}

    # Then everything, in batches.
    assert run(config_file) == 0
    out = capsys.readouterr().out
    assert out.startswith('Running batches of 50 until complete\n')
    assert table(out) == {'set_root_provider_ids': (3, 3),
                          'create_incomplete_consumers': (2, 2)}
    assert roots(database) == {top: top, middle: top, bottom: top,
                               lone: lone}
    assert consumers(database) == {CONSUMER: (NOBODY, NOBODY, 0),
                                   OTHER_CONSUMER: (NOBODY, NOBODY, 0)}

    assert check(config_file, capsys)[0] == 0

    # Nothing is left.
    assert run(config_file, '--max-count', '10') == 0
    capsys.readouterr()
    assert run(config_file) == 0
    assert table(capsys.readouterr().out) == {
        'set_root_provider_ids': (0, 0),
        'create_incomplete_consumers': (0, 0)}


def test_bad_max_count(database, database_url, tmp_path, capsys):
    config_file = databases.write_config(str(tmp_path / 'placement.conf'),
                                         database_url)
    for bad in ('0', '-3', 'many'):
        assert run(config_file, '--max-count', bad) == 127
        assert capsys.readouterr().out == (
            'Must supply a positive value for max_count\n')
