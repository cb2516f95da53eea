"""Taking over a database that OpenStack Placement migrated, on every
backend (placement/db/takeover.py).

The database is made as OpenStack Placement leaves it: its newest
revision in alembic_version, resource class ids it wrote itself (VCPU 0,
custom classes from 10000), and rows written without this service.
Then ``db sync`` takes it over and the service serves and extends those
rows; ``db stamp`` hands a database back.
"""

import json

import os_resource_classes
import pytest
import sqlalchemy as sa

from placement import app as app_mod
from placement.cmd import manage
from placement.cmd import status
from placement.db import sync
from placement.db import tables
from placement.db import takeover
from placement.objects import resource_class
from placement import warmup
from tests import databases
from tests.conftest import make_conf

PROVIDER = '0c9b7a3e-4d8f-4c59-9f0e-2a6f5f1d7b10'
CONSUMER = '6a1f2e3d-5c4b-4a39-8e27-1d0c9b8a7f65'


@pytest.fixture
def config_file(database_url, tmp_path):
    return databases.write_config(str(tmp_path / 'placement.conf'),
                                  database_url)


def check(config_file, capsys):
    """(exit code, {check: (result code, details)}) of placement-status
    upgrade check."""
    capsys.readouterr()
    code = status.main(['--config-file', config_file, 'upgrade', 'check',
                        '--json'])
    answer = json.loads(capsys.readouterr().out)
    return code, {c['check']: (c['result'], c['details'])
                  for c in answer['checks']}


def revision(db):
    return sync.current_revision(db)


def set_revision(db, value):
    db.write(lambda conn: conn.execute(
        sa.text('UPDATE alembic_version SET version_num = :v'), {'v': value}))


def as_openstack_placement_leaves_it(db):
    """The schema at OpenStack Placement's newest revision, its resource
    classes with the ids it gives them, and a provider with inventory
    and an allocation written straight into the tables."""
    sync.upgrade(db, takeover.SAME_SCHEMA)
    set_revision(db, takeover.UPSTREAM[-1])
    # OpenStack Placement dropped the index on provider names that the
    # unique constraint makes redundant.
    db.write(lambda conn: conn.execute(sa.text(
        'DROP INDEX resource_providers_name_idx' + (
            ' ON resource_providers' if db.engine.dialect.name in (
                'mysql', 'mariadb') else ''))))
    RC = tables.resource_classes
    mysql = db.engine.dialect.name in ('mysql', 'mariadb')

    def write(conn):
        if mysql:
            # An id of 0 is kept as given, not taken as "the next one".
            conn.execute(sa.text(
                "SET SESSION sql_mode = "
                "CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"))
        conn.execute(sa.insert(RC), [
            {'id': index, 'name': name} for index, name in
            enumerate(os_resource_classes.STANDARDS)])
        conn.execute(sa.insert(RC), [{'id': 10000, 'name': 'CUSTOM_OLD'}])
        rp_id = conn.execute(sa.insert(tables.resource_providers).values(
            uuid=PROVIDER, name='old', generation=3)).inserted_primary_key[0]
        conn.execute(sa.update(tables.resource_providers)
                     .where(tables.resource_providers.c.id == rp_id)
                     .values(root_provider_id=rp_id))
        conn.execute(sa.insert(tables.inventories), [
            {'resource_provider_id': rp_id, 'resource_class_id': class_id,
             'total': total, 'reserved': 0, 'min_unit': 1,
             'max_unit': total, 'step_size': 1, 'allocation_ratio': 1.0}
            for class_id, total in ((0, 8), (10000, 2))])
        project = conn.execute(sa.insert(tables.projects).values(
            external_id='p')).inserted_primary_key[0]
        user = conn.execute(sa.insert(tables.users).values(
            external_id='u')).inserted_primary_key[0]
        conn.execute(sa.insert(tables.consumers).values(
            uuid=CONSUMER, project_id=project, user_id=user, generation=0))
        conn.execute(sa.insert(tables.allocations), [
            {'resource_provider_id': rp_id, 'consumer_id': CONSUMER,
             'resource_class_id': class_id, 'used': used}
            for class_id, used in ((0, 3), (10000, 1))])
    db.write(write)


class Client:
    """Requests at microversion 1.39 to the application, in process:
    (status code, decoded JSON body or None)."""

    def __init__(self, database_url, db):
        self.app = app_mod.create_app(make_conf(database_url), db)

    def __call__(self, method, path, body=None):
        status = []
        answer = b''.join(self.app(
            warmup._environ(method, path, '1.39', body),
            lambda s, h, e=None: status.append(s)))
        return int(status[0].split()[0]), (json.loads(answer) if answer
                                           else None)


def test_db_sync_takes_over(database_url, empty_database, config_file,
                            capsys):
    db = empty_database
    as_openstack_placement_leaves_it(db)
    code, checks = check(config_file, capsys)
    assert code == 2
    assert 'to take it over' in checks['Database Schema'][1]
    # The tables are OpenStack Placement's: its data checks run.
    assert checks['Missing Root Provider IDs'] == (0, None)

    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    assert capsys.readouterr().out == 'Database is at revision %s\n' % (
        sync.head_revision())
    assert revision(db) == sync.head_revision()
    assert check(config_file, capsys)[0] == 0
    indexes = {index['name'] for index in sa.inspect(db.engine).get_indexes(
        'resource_providers')}
    assert 'resource_providers_name_idx' not in indexes
    # A second sync changes nothing.
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    assert revision(db) == sync.head_revision()

    api = Client(database_url, db)
    assert api('GET', '/resource_providers/%s/usages' % PROVIDER) == (
        200, {'resource_provider_generation': 3,
              'usages': {'VCPU': 3, 'CUSTOM_OLD': 1}})
    # Custom classes created now get ids after OpenStack Placement's.
    for number in range(3):
        created = api('PUT', '/resource_classes/CUSTOM_NEW%d' % number)
        assert created[0] == 201, created
    names = {row.name: row.id for row in db.read(lambda conn: conn.execute(
        sa.select(tables.resource_classes)).all())}
    assert names['VCPU'] == 0 and names['CUSTOM_OLD'] == 10000
    assert [names['CUSTOM_NEW%d' % n] for n in range(3)] == [
        10001, 10002, 10003]
    # The old rows are written to as any others.
    inventory = api(
        'PUT', '/resource_providers/%s/inventories' % PROVIDER, {
            'resource_provider_generation': 3, 'inventories': {
                'VCPU': {'total': 16}, 'CUSTOM_OLD': {'total': 2},
                'CUSTOM_NEW0': {'total': 5}}})
    assert inventory[0] == 200, inventory
    allocation = api('PUT', '/allocations/%s' % CONSUMER, {
        'allocations': {PROVIDER: {'resources': {
            'VCPU': 4, 'CUSTOM_NEW0': 5}}},
        'project_id': 'p', 'user_id': 'u', 'consumer_generation': 0,
        'consumer_type': 'INSTANCE'})
    assert allocation[0] == 204, allocation
    code, candidates = api(
        'GET', '/allocation_candidates?resources=VCPU:12,CUSTOM_OLD:2')
    assert code == 200 and len(candidates['allocation_requests']) == 1
    code, candidates = api(
        'GET', '/allocation_candidates?resources=VCPU:13')
    assert code == 200 and candidates['allocation_requests'] == []


def test_db_stamp_hands_back(database_url, empty_database, config_file,
                             capsys):
    db = empty_database
    as_openstack_placement_leaves_it(db)
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    # A class this service adds comes after OpenStack Placement's.
    client = Client(database_url, db)
    assert client('PUT', '/resource_classes/CUSTOM_NEW')[0] == 201
    assert db.read(resource_class.misnumbered) == []
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        takeover.UPSTREAM[-1]]) == 0
    assert revision(db) == takeover.UPSTREAM[-1]
    capsys.readouterr()
    # Only from this service's revision of the same schema, and only to
    # OpenStack Placement's newest.
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        takeover.UPSTREAM[-1]]) == 1
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        takeover.UPSTREAM[-2]]) == 1
    assert 'can be handed back' in capsys.readouterr().err
    assert revision(db) == takeover.UPSTREAM[-1]


def class_ids(db):
    return dict(db.read(lambda conn: conn.execute(sa.select(
        tables.resource_classes.c.name, tables.resource_classes.c.id)).all()))


def test_a_database_this_service_created_is_handed_back(
        database_url, empty_database, config_file):
    """Its resource classes are numbered as OpenStack Placement numbers
    them: standard ones at their position, custom ones from 10000."""
    db = empty_database
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    client = Client(database_url, db)
    for name in ('CUSTOM_FIRST', 'CUSTOM_SECOND'):
        assert client('PUT', '/resource_classes/%s' % name)[0] == 201
    ids = class_ids(db)
    assert {name: ids[name] for name in os_resource_classes.STANDARDS} == {
        name: index
        for index, name in enumerate(os_resource_classes.STANDARDS)}
    assert (ids['CUSTOM_FIRST'], ids['CUSTOM_SECOND']) == (10000, 10001)
    assert db.read(resource_class.misnumbered) == []
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        takeover.UPSTREAM[-1]]) == 0
    assert revision(db) == takeover.UPSTREAM[-1]


def test_db_stamp_refuses_classes_numbered_otherwise(
        empty_database, config_file, capsys):
    """A database whose classes are numbered otherwise (an earlier
    release of this service numbered them in the order it added them)
    would be misread by OpenStack Placement (a custom class below 10000
    is a standard one to it): it is not handed back, and nothing
    changes."""
    db = empty_database
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    db.write(lambda conn: conn.execute(sa.insert(tables.resource_classes)
                                       .values(id=500, name='CUSTOM_LOW')))
    assert db.read(resource_class.misnumbered) == [('CUSTOM_LOW', 500)]
    capsys.readouterr()
    assert manage.main(['--config-file', config_file, 'db', 'stamp',
                        takeover.UPSTREAM[-1]]) == 1
    error = capsys.readouterr().err
    assert 'not numbered as OpenStack Placement numbers them' in error
    assert 'CUSTOM_LOW has id 500' in error
    assert 'Traceback' not in error
    assert revision(db) == sync.head_revision()


@pytest.mark.parametrize('older', takeover.UPSTREAM[:3])
def test_older_revisions_are_refused(empty_database, config_file, capsys,
                                     older):
    sync.upgrade(empty_database)
    set_revision(empty_database, older)
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 1
    err = capsys.readouterr().err
    assert 'OpenStack Placement revision %s' % older in err
    assert takeover.UPSTREAM[-1] in err
    assert 'Traceback' not in err
    assert revision(empty_database) == older
    code, checks = check(config_file, capsys)
    assert code == 2
    assert 'older than this service can take over' in \
        checks['Database Schema'][1]


def test_earlier_complete_revision_is_taken_over(empty_database,
                                                 config_file):
    sync.upgrade(empty_database)
    set_revision(empty_database, takeover.UPSTREAM[3])
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 0
    assert revision(empty_database) == sync.head_revision()


def test_unknown_revision_is_refused(empty_database, config_file, capsys):
    sync.upgrade(empty_database)
    set_revision(empty_database, 'deadbeef0000')
    assert manage.main(['--config-file', config_file, 'db', 'sync']) == 1
    assert 'neither this service nor OpenStack Placement knows' in \
        capsys.readouterr().err
    assert revision(empty_database) == 'deadbeef0000'
