"""GET /allocation_candidates while concurrent writes change providers
between the search's queries, on every database.

On PostgreSQL and MariaDB each query of a search reads the latest
committed state.  A provider a candidate was found on may be gone when
the search reads the providers' summaries, and a provider may join a
tree between the summaries' two queries: the answer leaves them out
(both used to be a 500).  SQLite reads in one transaction, so there the
answer is as of before those writes.
"""

import json
import uuid as uuidlib

import falcon.testing
import pytest

from placement import app as app_mod
from placement.objects.candidates import summaries as summaries_mod
from tests import conftest

HEADERS = {'x-auth-token': 'admin',
           'openstack-api-version': 'placement 1.39'}


@pytest.fixture
def client(database, database_url):
    conf = conftest.make_conf(database_url)
    conf.set_override('auth_strategy', 'noauth2', group='api')
    return falcon.testing.TestClient(app_mod.create_app(conf, database),
                                     headers=HEADERS)


def compute_node(client, name):
    uuid = str(uuidlib.uuid4())
    client.simulate_post('/resource_providers',
                         json={'name': name, 'uuid': uuid})
    result = client.simulate_put(
        '/resource_providers/%s/inventories' % uuid,
        json={'resource_provider_generation': 0,
              'inventories': {'VCPU': {'total': 4}}})
    assert result.status_code == 200, result.text
    return uuid


def test_a_provider_deleted_during_the_search_is_left_out(
        database, client, monkeypatch):
    kept = compute_node(client, 'kept')
    doomed = compute_node(client, 'doomed')
    real_load = summaries_mod.load

    def load_after_a_delete(*args, **kwargs):
        # Another request deletes a provider the candidates were found
        # on, and commits, before the summaries are read.
        result = client.simulate_delete('/resource_providers/%s' % doomed)
        assert result.status_code == 204, result.text
        return real_load(*args, **kwargs)

    monkeypatch.setattr(summaries_mod, 'load', load_after_a_delete)
    result = client.simulate_get('/allocation_candidates',
                                 params={'resources': 'VCPU:1'})
    assert result.status_code == 200, result.text
    answer = json.loads(result.text)
    allocated = {provider for request in answer['allocation_requests']
                 for provider in request['allocations']}
    summaries = set(answer['provider_summaries'])
    if database.backend == 'sqlite':
        # One read transaction: the search sees the state before the
        # delete throughout.
        assert allocated == summaries == {kept, doomed}
    else:
        assert allocated == summaries == {kept}


def test_a_provider_joining_a_tree_during_the_summaries_is_left_out(
        database, client, monkeypatch):
    root = compute_node(client, 'root')
    child = str(uuidlib.uuid4())
    real_execute = summaries_mod.sql.execute
    statements = []

    def execute_then_add_a_child(conn, statement, *args, **kwargs):
        result = real_execute(conn, statement, *args, **kwargs)
        statements.append(statement)
        if statement is summaries_mod._PROVIDERS:
            # Between the summaries' two queries another request adds a
            # child with a trait to the tree.
            assert client.simulate_post('/resource_providers', json={
                'name': 'late', 'uuid': child,
                'parent_provider_uuid': root}).status_code == 200
            assert client.simulate_put(
                '/resource_providers/%s/traits' % child, json={
                    'resource_provider_generation': 0,
                    'traits': ['HW_CPU_X86_AVX2']}).status_code == 200
        return result

    monkeypatch.setattr(summaries_mod.sql, 'execute',
                        execute_then_add_a_child)
    result = client.simulate_get('/allocation_candidates',
                                 params={'resources': 'VCPU:1'})
    assert result.status_code == 200, result.text
    assert summaries_mod._TRAITS in statements
    assert set(json.loads(result.text)['provider_summaries']) == {root}
