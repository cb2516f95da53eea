"""MariaDB/MySQL with ``[placement_database] multi_statements = false``
(for proxies that refuse multi-statement queries): connections lack the
capability, every statement goes alone, and the writes that otherwise
send statements together (a provider's creation, its first inventory,
generation-checked aggregates and traits, claims that find a stale
generation, allocations) answer as they do with it, and a transaction
that only read is still ended (a read view left open would hold its
tables' metadata locks)."""

import json
import uuid as uuidlib

import pytest
import sqlalchemy as sa
from falcon import testing

from placement import app as app_mod
from placement.db import sql
from placement.db import sync
from tests.conftest import make_conf


@pytest.fixture
def single(backend, database_url):
    if backend != 'mysql':
        pytest.skip('multi-statement queries are a MariaDB/MySQL matter')
    conf = make_conf(database_url)
    conf.set_override('multi_statements', False, group='placement_database')
    conf.set_override('auth_strategy', 'noauth2', group='api')
    db = app_mod.make_database(conf)
    sync.upgrade(db)
    sync.sync_standard(db)
    yield conf, db
    db.dispose()


def _sent(db):
    """A list collecting every statement ``db`` sends from now on."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    for engine in {db.engine, db.read_engine}:
        sa.event.listen(engine, 'after_cursor_execute', record)
    return sent


class _Answer:
    def __init__(self, app, environ):
        started = []
        body = b''.join(app(environ, lambda status, headers,
                            exc_info=None: started.append(status)))
        self.status_code = int(started[0].split()[0])
        self.json = json.loads(body) if body else None


def test_connections_refuse_several_statements(single):
    conf, db = single
    for engine in (db.engine, db.read_engine):
        with engine.connect() as conn:
            assert not sql.sends_together(conn)
            with pytest.raises(sa.exc.ProgrammingError):
                conn.exec_driver_sql('SELECT 1; SELECT 2')


def test_writes_go_one_statement_at_a_time(single):
    conf, db = single
    app = app_mod.wsgi_app(conf, db)
    sent = _sent(db)

    def call(method, path, body=None, version='1.39'):
        # (Straight to the application: wsgiref's validator, which
        # falcon.testing.TestClient runs, wants a content type on the
        # bodiless 201 that OpenStack Placement answers without one.)
        return _Answer(app, testing.create_environ(
            path, method=method,
            body=json.dumps(body) if body is not None else '',
            headers={'X-Auth-Token': 'admin',
                     'Content-Type': 'application/json',
                     'OpenStack-API-Version': 'placement %s' % version}))

    rp = str(uuidlib.uuid4())
    base = '/resource_providers/' + rp
    assert call('POST', '/resource_providers',
                {'uuid': rp, 'name': 'cn1'}).json['generation'] == 0
    inventories = {'VCPU': {'total': 8}, 'MEMORY_MB': {'total': 4096}}
    result = call('PUT', base + '/inventories', {
        'resource_provider_generation': 0, 'inventories': inventories})
    assert result.status_code == 200
    assert result.json['resource_provider_generation'] == 1

    aggs = sorted(str(uuidlib.uuid4()) for _ in range(2))
    result = call('PUT', base + '/aggregates', {
        'resource_provider_generation': 1, 'aggregates': aggs})
    assert result.json['resource_provider_generation'] == 2
    stale = call('PUT', base + '/aggregates', {
        'resource_provider_generation': 1, 'aggregates': []})
    assert stale.status_code == 409
    assert stale.json['errors'][0]['code'] == 'placement.concurrent_update'

    assert call('PUT', '/traits/CUSTOM_GOLD').status_code == 201
    result = call('PUT', base + '/traits', {
        'resource_provider_generation': 2,
        'traits': ['HW_CPU_X86_AVX2']})
    assert result.json['resource_provider_generation'] == 3
    result = call('PUT', base + '/traits', {
        'resource_provider_generation': 3,
        'traits': ['HW_CPU_X86_AVX2', 'CUSTOM_GOLD']})
    assert result.json['resource_provider_generation'] == 4
    assert call('PUT', base + '/traits', {
        'resource_provider_generation': 3,
        'traits': []}).status_code == 409
    assert call('PUT', base + '/traits', {
        'resource_provider_generation': 4,
        'traits': ['CUSTOM_NONE']}).status_code == 400

    consumer = '/allocations/' + str(uuidlib.uuid4())
    assert call('PUT', consumer, {
        'allocations': {rp: {'resources': {'VCPU': 2}}},
        'consumer_generation': None, 'project_id': str(uuidlib.uuid4()),
        'user_id': str(uuidlib.uuid4())}, version='1.28').status_code == 204
    assert call('GET', base + '/usages').json['usages'] == {
        'VCPU': 2, 'MEMORY_MB': 0}
    assert call('DELETE', consumer).status_code == 204

    assert call('GET', base + '/aggregates').json['aggregates'] == aggs
    shown = call('GET', base + '/traits').json
    # (The allocation moved the generation; its DELETE does not.)
    assert shown == {'traits': ['CUSTOM_GOLD', 'HW_CPU_X86_AVX2'],
                     'resource_provider_generation': 5}
    assert call('GET', base + '/usages').json['usages'] == {
        'VCPU': 0, 'MEMORY_MB': 0}
    assert sent and not [s for s in sent if ';' in s]


def test_transactions_that_only_read_are_ended(single):
    conf, db = single

    def read(conn):
        return conn.execute(sa.text('SELECT id FROM traits LIMIT 1')).all()
    for _ in range(3):
        db.write(read)
        db.read(read)
    # A transaction left open would hold the table's metadata lock.
    other = sa.create_engine(conf.placement_database.connection)
    try:
        with other.connect() as conn:
            conn.exec_driver_sql('SET SESSION lock_wait_timeout = 3')
            conn.exec_driver_sql('LOCK TABLES traits WRITE')
            conn.exec_driver_sql('UNLOCK TABLES')
    finally:
        other.dispose()
