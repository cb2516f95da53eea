"""Seeded random bad input against a real server, on every database.

Well-formed requests of each write endpoint have one field at a time
replaced, dropped or added (wrong types, huge numbers, NUL and other odd
strings, unknown names), bodies are cut, nested too deeply or replaced
by non-JSON, query parameters get odd values, and headers odd media
types and versions.  Every answer must be below 500, and come within
``ANSWER_DEADLINE`` seconds: a write that failed and kept its row locks
would hold up the writers after it (the database gives up on a lock
wait after 50 s).

And clients in parallel write at random to a few shared providers and
consumers: every conflict (deadlocks among them) ends in a 4xx, and at
the end every consumer holding allocations has its owner and the usages
by project add up to the providers' usages.

tests/compare_services.py sends the same seeded requests to two
services and reports where their answers differ.
"""

import json
import random
import threading
import uuid as uuidlib

import pytest

from tests import live_server

REQUESTS = 600
ANSWER_DEADLINE = 20
VERSIONS = ['1.0', '1.10', '1.14', '1.19', '1.20', '1.26', '1.28', '1.33',
            '1.36', '1.37', '1.38', '1.39', 'latest']
ODD_VALUES = [None, True, False, 0, -1, 1.5, 2 ** 63, 2 ** 64,
              -2 ** 63 - 1, 1e308, '', 'x', 'é中😀', 'nul \x00', 'a' * 300,
              [], {}, [1], {'a': 1}, 'CUSTOM_RANDOM', 'VCPU', '1.5', 'NaN']
ODD_QUERY_VALUES = ['', 'x', '%00', '%FF', '%E9', 'in:', '!', '!in:', 'in:,',
                    ',', ':', 'VCPU:', 'VCPU:-1', 'VCPU:99999999999999999999',
                    'VCPU:1,VCPU:2', 'CUSTOM_RANDOM', '!CUSTOM_RANDOM',
                    'in:CUSTOM_RANDOM,!X', 'a' * 2000, 'none', 'isolate',
                    '0', '-5', '1.5', 'true']
QUERIES = [
    '/resource_providers?name=%s', '/resource_providers?uuid=%s',
    '/resource_providers?member_of=%s', '/resource_providers?required=%s',
    '/resource_providers?resources=%s', '/resource_providers?in_tree=%s',
    '/allocation_candidates?resources=%s',
    '/allocation_candidates?resources=VCPU:1&required=%s',
    '/allocation_candidates?resources=VCPU:1&member_of=%s',
    '/allocation_candidates?resources1=VCPU:1&group_policy=%s',
    '/allocation_candidates?resources=VCPU:1&limit=%s',
    '/allocation_candidates?resources=VCPU:1&root_required=%s',
    '/allocation_candidates?resources_X=VCPU:1&same_subtree=%s',
    '/usages?project_id=%s', '/usages?project_id=p&user_id=%s',
    '/traits?name=%s', '/traits?associated=%s', '/resource_providers/%s',
    '/resource_providers/%s/usages', '/allocations/%s',
    '/resource_classes/%s', '/traits/%s']
ODD_HEADERS = [
    {'content-type': 'text/plain'},
    {'content-type': 'application/json; charset=latin1'},
    {'accept': 'text/html'}, {'accept': 'image/png'},
    {'openstack-api-version': 'placement 1.x'},
    {'openstack-api-version': 'placement 1.99'},
    {'openstack-api-version': 'compute 1.2'},
    {'x-auth-token': ''}, {'x-roles': 'reader'}]
BROKEN_BODIES = [b'{', b'[]', b'null', b'"x"', b'\xff\xfe',
                 b'{"a": 1e999}', b'{"name": "\\ud800"}',
                 b'{"name": "\xed\xa0\x80"}',
                 b'[' * 100000 + b']' * 100000,
                 b'{"name": ' + b'[' * 600 + b']' * 600 + b'}']


def send(port, method, path, body=None, headers=None, raw=None,
         version='latest'):
    """(status, body bytes): ``body`` sent as JSON, or ``raw`` as is."""
    if raw is None and body is not None:
        raw = json.dumps(body).encode()
    sent = {'openstack-api-version': 'placement %s' % version}
    sent.update(headers or {})
    return live_server.exchange(port, method, path, raw, sent,
                                timeout=ANSWER_DEADLINE)


def well_formed(port, new_uuid=uuidlib.uuid4):
    """((method, path) -> a request body each endpoint takes, the root
    provider's uuid), every uuid made by ``new_uuid``."""
    root, child, consumer = (str(new_uuid()) for _ in range(3))
    send(port, 'POST', '/resource_providers',
         {'name': 'random-root', 'uuid': root}, version='1.20')
    send(port, 'POST', '/resource_providers',
         {'name': 'random-child', 'uuid': child,
          'parent_provider_uuid': root}, version='1.20')
    send(port, 'PUT', '/resource_providers/%s/inventories' % root,
         {'resource_provider_generation': 0,
          'inventories': {'VCPU': {'total': 8}, 'DISK_GB': {'total': 99}}})
    send(port, 'PUT', '/traits/CUSTOM_RANDOM')
    send(port, 'PUT', '/resource_classes/CUSTOM_RANDOM', version='1.7')
    claim = {'allocations': {root: {'resources': {'VCPU': 1}}},
             'project_id': 'p', 'user_id': 'u', 'consumer_generation': None,
             'consumer_type': 'INSTANCE', 'mappings': {'a': [root]}}
    base = '/resource_providers/%s' % root
    return {
        ('POST', '/resource_providers'): {
            'name': 'n', 'uuid': str(new_uuid()),
            'parent_provider_uuid': root},
        ('PUT', '/resource_providers/%s' % child): {
            'name': 'n2', 'parent_provider_uuid': root},
        ('PUT', base + '/inventories'): {
            'resource_provider_generation': 1, 'inventories': {'VCPU': {
                'total': 8, 'reserved': 0, 'min_unit': 1, 'max_unit': 8,
                'step_size': 1, 'allocation_ratio': 1.0}}},
        ('POST', base + '/inventories'): {'resource_class': 'MEMORY_MB',
                                          'total': 10},
        ('PUT', base + '/inventories/VCPU'): {
            'resource_provider_generation': 1, 'total': 8},
        ('PUT', base + '/traits'): {'resource_provider_generation': 1,
                                    'traits': ['CUSTOM_RANDOM']},
        ('PUT', base + '/aggregates'): {'resource_provider_generation': 1,
                                        'aggregates': [str(new_uuid())]},
        ('POST', '/resource_classes'): {'name': 'CUSTOM_OTHER'},
        ('PUT', '/resource_classes/CUSTOM_RANDOM'): {'name': 'CUSTOM_R2'},
        ('PUT', '/allocations/%s' % consumer): claim,
        ('POST', '/allocations'): {consumer: claim},
        ('POST', '/reshaper'): {
            'inventories': {root: {'resource_provider_generation': 1,
                                   'inventories': {}}},
            'allocations': {}},
    }, root


def mutated(rng, value):
    """``value`` with one thing changed, somewhere inside it."""
    if isinstance(value, dict):
        changed = dict(value)
        key = rng.choice(list(changed) + ['unknown'])
        roll = rng.random()
        if roll < 0.3:
            changed[key] = rng.choice(ODD_VALUES)
        elif roll < 0.5:
            changed.pop(key, None)
        elif roll < 0.8 and key in changed:
            changed[key] = mutated(rng, changed[key])
        else:
            changed[rng.choice(['x', '', 'é', 'CUSTOM_X', 'VCPU'])] = \
                rng.choice(ODD_VALUES)
        return changed
    if isinstance(value, list):
        changed = list(value)
        if changed and rng.random() < 0.5:
            index = rng.randrange(len(changed))
            changed[index] = mutated(rng, changed[index])
        else:
            changed.append(rng.choice(ODD_VALUES))
        return changed
    return rng.choice(ODD_VALUES) if rng.random() < 0.7 else value


def random_request(rng, bodies, root):
    """(method, path, keyword arguments of ``send``)."""
    roll = rng.random()
    version = rng.choice(VERSIONS)
    if 0.45 <= roll < 0.85:
        path = rng.choice(QUERIES) % rng.choice(ODD_QUERY_VALUES + [root])
        method = 'GET' if '?' in path else rng.choice(['GET', 'DELETE'])
        return method, path, {'version': version}
    (method, path), body = rng.choice(sorted(bodies.items()))
    if roll >= 0.85:
        return method, path, {'body': body, 'version': version,
                              'headers': rng.choice(ODD_HEADERS)}
    if rng.random() < 0.1:
        whole = json.dumps(body).encode()
        return method, path, {'raw': rng.choice(BROKEN_BODIES
                                                + [whole[:-1]]),
                              'version': version}
    return method, path, {'body': mutated(rng, body), 'version': version}


@pytest.mark.parametrize('seed', [1, 2])
def test_random_bad_input_never_gets_a_5xx(server, seed):
    port, log_path = server
    bodies, root = well_formed(port)
    rng = random.Random(seed)
    for number in range(REQUESTS):
        method, path, kwargs = random_request(rng, bodies, root)
        try:
            status, answer = send(port, method, path, **kwargs)
        except OSError as error:  # the socket timeout among them
            pytest.fail('request %d, %s %s %s: no answer (%r)'
                        % (number, method, path[:100], repr(kwargs)[:300],
                           error))
        assert status < 500, (number, method, path[:100],
                              repr(kwargs)[:300], answer[:500])
    with open(log_path) as log:
        assert 'Traceback' not in log.read()


CLIENTS = 8
WRITES_PER_CLIENT = 150


class SharedState:
    """Three root providers with inventory, their children (created and
    deleted as clients go), a few consumers and aggregates: what every
    client's random writes pick from."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        # The 5xx answers to the reads writes start with.
        self.failed_reads = []
        for name in ('CUSTOM_A', 'CUSTOM_B'):
            send(port, 'PUT', '/traits/' + name)
        self.roots = []
        for n in range(3):
            status, body = send(port, 'POST', '/resource_providers',
                                {'name': 'root-%d' % n})
            root = json.loads(body)['uuid']
            send(port, 'PUT', '/resource_providers/%s/inventories' % root,
                 {'resource_provider_generation': 0,
                  'inventories': {'VCPU': {'total': 8, 'max_unit': 8}}})
            self.roots.append(root)
        self.children = []
        self.consumers = [str(uuidlib.uuid4()) for _ in range(6)]
        self.owners = [0]
        self.aggregates = [str(uuidlib.uuid4()) for _ in range(3)]

    def generation(self, provider):
        path = '/resource_providers/%s' % provider
        status, body = send(self.port, 'GET', path)
        if status >= 500:
            self.failed_reads.append(('GET', path, status, body[:500]))
        return json.loads(body)['generation'] if status == 200 else 0

    def write(self, rng):
        """(method, path, status, body) of one random write, which may
        well conflict with the others'."""
        port = self.port
        with self.lock:
            provider = rng.choice(self.roots + self.children)
            child = rng.choice(self.children) if self.children else None
        base = '/resource_providers/%s' % provider
        kind = rng.randrange(10)
        if kind == 9:
            path = ('/allocation_candidates?resources=VCPU:1&in_tree=%s'
                    % provider if rng.random() < 0.5 else
                    '/allocation_candidates?resources=VCPU:1')
            return ('GET', path) + send(port, 'GET', path)
        if kind == 0:
            status, body = send(port, 'POST', '/resource_providers', {
                'name': 'child-%s' % uuidlib.uuid4(),
                'parent_provider_uuid': rng.choice(self.roots)})
            if status == 200:
                with self.lock:
                    self.children.append(json.loads(body)['uuid'])
            return 'POST', '/resource_providers', status, body
        if kind == 1 and child is not None:
            path = '/resource_providers/%s' % child
            status, body = send(port, 'DELETE', path)
            if status == 204:
                with self.lock:
                    if child in self.children:
                        self.children.remove(child)
            return 'DELETE', path, status, body
        if kind in (1, 2):
            inventories = {rc: {'total': rng.randint(4, 9), 'max_unit': 9}
                           for rc in ['VCPU'] + rng.sample(['DISK_GB'],
                                                           rng.randint(0, 1))}
            return ('PUT', base + '/inventories') + send(
                port, 'PUT', base + '/inventories', {
                    'resource_provider_generation': self.generation(provider),
                    'inventories': inventories})
        if kind == 3:
            return ('PUT', base + '/traits') + send(
                port, 'PUT', base + '/traits', {
                    'resource_provider_generation': self.generation(provider),
                    'traits': rng.sample(['CUSTOM_A', 'CUSTOM_B'],
                                         rng.randint(0, 2))})
        if kind == 4:
            return ('PUT', base + '/aggregates') + send(
                port, 'PUT', base + '/aggregates', {
                    'resource_provider_generation': self.generation(provider),
                    'aggregates': rng.sample(self.aggregates,
                                             rng.randint(0, 2))})
        consumer = rng.choice(self.consumers)
        path = '/allocations/%s' % consumer
        if kind == 5:
            return ('DELETE', path) + send(port, 'DELETE', path)
        # A POST often names a new owner (its two consumers create the
        # owner's rows, and the POST may be refused); later claims name
        # the latest owners.
        with self.lock:
            if kind == 6 and rng.random() < 0.5:
                self.owners.append(len(self.owners))
            owner = rng.choice(self.owners[-3:])
        claim = {'project_id': 'p-%d' % owner, 'user_id': 'u-%d' % owner,
                 'consumer_type': 'INSTANCE', 'allocations': {
                     target: {'resources': {'VCPU': 1}}
                     for target in {provider, rng.choice(self.roots)}}}
        if kind == 6:
            new = rng.random() < 0.5
            pair = ([str(uuidlib.uuid4()) for _ in range(2)] if new
                    else {consumer, rng.choice(self.consumers)})
            status, body = send(port, 'POST', '/allocations', {
                key: dict(claim, consumer_generation=None) for key in pair})
            if new and status == 204:
                with self.lock:
                    self.consumers.extend(pair)
            return 'POST', '/allocations', status, body
        status, body = send(port, 'GET', path)
        if status >= 500:
            self.failed_reads.append(('GET', path, status, body[:500]))
        claim['consumer_generation'] = json.loads(body).get(
            'consumer_generation') if status == 200 else None
        return ('PUT', path) + send(port, 'PUT', path, claim)

    def inconsistencies(self):
        """What the writes left inconsistent: a consumer holding
        allocations without its owner, or usages by project that do not
        add up to the providers' usages."""
        found = []
        owners = set()
        for consumer in self.consumers:
            status, body = send(self.port, 'GET', '/allocations/' + consumer)
            held = json.loads(body)
            if held['allocations']:
                if not all(held.get(field) for field in (
                        'project_id', 'user_id', 'consumer_generation')):
                    found.append(('consumer without its owner', consumer,
                                  held))
                else:
                    owners.add(held['project_id'])
        by_projects = 0
        for project in owners:
            status, body = send(self.port, 'GET',
                                '/usages?project_id=' + project,
                                version='1.9')
            by_projects += json.loads(body)['usages'].get('VCPU', 0)
        by_providers = 0
        for provider in self.roots + self.children:
            status, body = send(self.port, 'GET',
                                '/resource_providers/%s/usages' % provider)
            if status == 200:
                by_providers += json.loads(body)['usages'].get('VCPU', 0)
        if by_projects != by_providers:
            found.append(('usages by project', by_projects,
                          'by provider', by_providers))
        return found


def test_concurrent_random_writes_never_get_a_5xx(server):
    """Clients in parallel create and delete providers, replace their
    inventories, traits and aggregates, claim and release allocations
    across them and ask for allocation candidates: conflicts are 4xx
    (mostly 409), never 5xx, and what was written adds up."""
    port, log_path = server
    state = SharedState(port)
    failures = []

    def client(seed):
        rng = random.Random(seed)
        try:
            for _ in range(WRITES_PER_CLIENT):
                method, path, status, answer = state.write(rng)
                if status >= 500:
                    failures.append((method, path, status, answer[:500]))
        except OSError as error:
            failures.append(('no answer', repr(error)))

    threads = [threading.Thread(target=client, args=(seed,))
               for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10 * ANSWER_DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert state.failed_reads == []
    assert state.inconsistencies() == []
    with open(log_path) as log:
        assert 'Traceback' not in log.read()
