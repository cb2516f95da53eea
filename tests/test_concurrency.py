"""Lost updates under real concurrency, on every backend.

A real server (``placement-api --workers 4``, with sync workers and
with gthread workers of two threads each) runs on a fresh database;
several client OS processes each run the read-modify-write loop a
Placement client runs: GET a provider's traits (or aggregates), add its
own item, PUT with the generation it read, and on 409
``placement.concurrent_update`` read again and retry.  Three phases:
traits, aggregates at microversion 1.19, and both mixed.

At the end every item of every process is on the provider (no lost
update), no response was a 5xx, every success moved the generation by
exactly one from a distinct base generation, and the final generation
equals the number of successful writes.  Every loop is bounded and every
wait has a deadline, so a broken server fails the test instead of
hanging it.
"""

import multiprocessing
import os
import uuid

import pytest

from tests import live_server
from tests.live_server import request

PROCESSES = 6
ITEMS_PER_PHASE = 4
MAX_ATTEMPTS = 200          # per item: a loop that never succeeds fails
PHASE_DEADLINE = 240        # seconds for all processes of one phase
CONFLICT = 'placement.concurrent_update'
# Traits at a microversion whose errors carry a code; aggregates at 1.19,
# the first one with generations.
TRAITS_VERSION = live_server.DEFAULT_VERSION
AGGREGATES_VERSION = 'placement 1.19'


# -- what one client process does ---------------------------------------

def _add(port, rp_uuid, kind, item, report):
    """The seed loop for one item; True once a PUT succeeded."""
    path = '/resource_providers/%s/%s' % (rp_uuid, kind)
    version = TRAITS_VERSION if kind == 'traits' else AGGREGATES_VERSION
    for _ in range(MAX_ATTEMPTS):
        status, body = request(port, 'GET', path, version=version)
        report['statuses'].append(status)
        if status != 200:
            report['unexpected'].append(('GET', path, status, body))
            return False
        base = body['resource_provider_generation']
        items = sorted(set(body[kind]) | {item})
        status, body = request(
            port, 'PUT', path, version=version,
            body={kind: items, 'resource_provider_generation': base})
        report['statuses'].append(status)
        if status == 200:
            report['writes'].append(
                (kind, item, base, body['resource_provider_generation']))
            return True
        if status == 409 and _is_generation_conflict(body, version):
            report['conflicts'] += 1
            continue
        report['unexpected'].append(('PUT', path, status, body))
        return False
    report['unexpected'].append(('gave up', path, item, MAX_ATTEMPTS))
    return False


def _is_generation_conflict(body, version):
    try:
        error = body['errors'][0]
    except (TypeError, KeyError, IndexError):
        return False
    if error.get('status') != 409:
        return False
    if version == AGGREGATES_VERSION:
        # Error codes appear at 1.23; before, the detail tells.
        return 'generation' in error.get('detail', '') or \
            'concurrently updated' in error.get('detail', '')
    return error.get('code') == CONFLICT


def client_process(args):
    """One client: add ``items`` ([(kind, item)]) one after the other."""
    port, rp_uuid, items = args
    report = {'pid': os.getpid(), 'writes': [], 'statuses': [],
              'conflicts': 0, 'unexpected': []}
    for kind, item in items:
        if kind == 'traits':
            status, body = request(port, 'PUT', '/traits/%s' % item)
            report['statuses'].append(status)
            if status not in (201, 204):
                report['unexpected'].append(('PUT trait', item, status,
                                             body))
                continue
        _add(port, rp_uuid, kind, item, report)
    return report


# -- the test -----------------------------------------------------------

def _run_phase(pool, port, rp_uuid, plans):
    pending = pool.map_async(client_process,
                             [(port, rp_uuid, plan) for plan in plans])
    try:
        return pending.get(timeout=PHASE_DEADLINE)
    except multiprocessing.TimeoutError:
        pytest.fail('a phase did not finish within %ds' % PHASE_DEADLINE)


def _plans(phase, suffix):
    plans = []
    for p in range(PROCESSES):
        plan = []
        for i in range(ITEMS_PER_PHASE):
            kind = {'traits': 'traits', 'aggregates': 'aggregates',
                    'mixed': ('traits', 'aggregates')[(p + i) % 2]}[phase]
            if kind == 'traits':
                item = 'CUSTOM_%s_P%d_I%d_%s' % (phase.upper(), p, i, suffix)
            else:
                item = str(uuid.uuid4())
            plan.append((kind, item))
        plans.append(plan)
    return plans


@pytest.mark.parametrize('server', [1, 2], ids=['sync', 'threads2'],
                         indirect=True)
def test_no_lost_updates(server, backend):
    port, log_path = server
    rp_uuid = str(uuid.uuid4())
    status, body = request(port, 'POST', '/resource_providers',
                           body={'name': 'contended', 'uuid': rp_uuid})
    assert status == 200, body
    assert body['generation'] == 0

    suffix = uuid.uuid4().hex[:6].upper()
    reports, wanted = [], {'traits': set(), 'aggregates': set()}
    context = multiprocessing.get_context('spawn')
    with context.Pool(PROCESSES) as pool:
        for phase in ('traits', 'aggregates', 'mixed'):
            plans = _plans(phase, suffix)
            for plan in plans:
                for kind, item in plan:
                    wanted[kind].add(item)
            reports += _run_phase(pool, port, rp_uuid, plans)

    unexpected = [u for r in reports for u in r['unexpected']]
    statuses = [s for r in reports for s in r['statuses']]
    errors_5xx = [s for s in statuses if s >= 500]
    writes = [w for r in reports for w in r['writes']]
    conflicts = sum(r['conflicts'] for r in reports)
    print('%s: %d requests, %d writes, %d conflicts retried, %d client '
          'processes' % (backend, len(statuses), len(writes), conflicts,
                         len({r['pid'] for r in reports})))
    with open(log_path) as log:
        server_log = log.read()
    assert not errors_5xx, (errors_5xx, server_log[-3000:])
    assert not unexpected, unexpected[:5]
    assert 'Traceback' not in server_log, server_log[-3000:]

    # One success per item; each moved the generation by one, from a
    # distinct base: the writes form one chain 0 -> 1 -> ... -> n.
    assert len(writes) == sum(len(v) for v in wanted.values())
    assert all(new == base + 1 for _, _, base, new in writes), writes
    assert sorted(base for _, _, base, _ in writes) == list(
        range(len(writes)))

    status, traits = request(
        port, 'GET', '/resource_providers/%s/traits' % rp_uuid)
    assert status == 200
    status, aggregates = request(
        port, 'GET', '/resource_providers/%s/aggregates' % rp_uuid,
        version=AGGREGATES_VERSION)
    assert status == 200
    assert set(traits['traits']) == wanted['traits']
    assert set(aggregates['aggregates']) == wanted['aggregates']
    status, provider = request(port, 'GET', '/resource_providers/%s'
                               % rp_uuid)
    assert status == 200
    assert provider['generation'] == len(writes)
    assert traits['resource_provider_generation'] == len(writes)
    assert aggregates['resource_provider_generation'] == len(writes)
