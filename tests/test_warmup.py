"""The start-up warm-up (placement.warmup), on every backend: it changes
nothing stored, reaches the database, works under both authentication
strategies, and never stops a process from starting."""

import gc
import re

import pytest
import sqlalchemy as sa

from placement import app as app_mod
from placement import warmup
from placement.db import tables
from tests.conftest import make_conf

PROVIDER = '5b2c0a52-7a3e-4d1c-9a53-4c1d1b0e8a01'
AGGREGATE = '0f6d7d3a-5a0e-4a47-8c44-7b36d9a5e2c2'


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()


def call(app, method, path, body=None):
    """(status code, body) of a request sent as the warm-up sends them."""
    status = []
    body = b''.join(app(warmup._environ(method, path, '1.39', body),
                        lambda s, h, e=None: status.append(s)))
    return int(status[0].split()[0]), body


def snapshot(db):
    """Every row of every table."""
    def read(conn):
        return {name: sorted(map(repr, conn.execute(sa.select(table))))
                for name, table in tables.metadata.tables.items()}
    return db.read(read)


def statuses(answers):
    """{(method, path without its query and with U for uuids): status}."""
    return {(method, re.sub('[0-9a-f-]{36}', 'U', path.split('?')[0])):
            status for method, path, status in answers}


def test_warm_up_changes_nothing_stored(database, database_url):
    app = app_mod.create_app(make_conf(database_url), database)
    base = '/resource_providers/' + PROVIDER
    assert call(app, 'POST', '/resource_providers',
                {'name': 'stored', 'uuid': PROVIDER})[0] == 200
    assert call(app, 'PUT', base + '/inventories', {
        'resource_provider_generation': 0,
        'inventories': {'VCPU': {'total': 4}}})[0] == 200
    assert call(app, 'PUT', base + '/aggregates', {
        'resource_provider_generation': 1,
        'aggregates': [AGGREGATE]})[0] == 200
    assert call(app, 'PUT', base + '/traits', {
        'resource_provider_generation': 2,
        'traits': ['HW_CPU_X86_SSE']})[0] == 200
    before = snapshot(database)

    answers = warmup.warm(app)

    assert snapshot(database) == before
    found = statuses(answers)
    # Writes were refused (the provider does not exist), after asking the
    # database; reads found nothing or an empty list; the bad body was
    # refused by its schema.
    assert found[('PUT', '/resource_providers/U/aggregates')] == \
        '404 Not Found'
    assert found[('PUT', '/resource_providers/U/traits')] == '404 Not Found'
    assert found[('PUT', '/resource_providers/U/inventories')] == \
        '404 Not Found'
    assert found[('GET', '/resource_providers')] == '200 OK'
    assert found[('POST', '/resource_providers')] == '400 Bad Request'
    assert all(status[0] in '24' for status in found.values()), found
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize('backend', ['sqlite'])
def test_warm_up_under_keystone_headers(database, database_url):
    conf = make_conf(database_url)
    conf.set_override('auth_strategy', 'keystone', group='api')
    app = app_mod.create_app(conf, database)
    answers = warmup.warm(app)
    assert '401 Unauthorized' not in {status for _, _, status in answers}
    assert ('PUT', '/resource_providers/U/traits') in statuses(answers)


@pytest.mark.parametrize('backend', ['sqlite'])
def test_warm_up_failing_does_not_stop_start_up(empty_database,
                                                database_url):
    # No schema at all: every request that reaches the database fails.
    app = app_mod.create_app(make_conf(database_url), empty_database,
                             sync_standard=False)
    answers = warmup.warm(app)
    assert '500 Internal Server Error' in {status for _, _, status in answers}
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize('backend', ['sqlite'])
def test_wsgi_app_is_warmed(database, database_url, monkeypatch):
    sent = []
    monkeypatch.setattr(warmup, 'warm', sent.append)
    app = app_mod.wsgi_app(make_conf(database_url), database)
    assert sent == [app]
