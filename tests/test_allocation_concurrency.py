"""Capacity holds under real concurrency, on every backend.

A real server (``placement-api --workers 4``) on a fresh database offers
a few small providers (8 VCPU each).  Several client OS processes claim
one VCPU at a time for fresh consumers (PUT /allocations at 1.28 with
``consumer_generation: null``), move on to the next provider when one is
full, and release their oldest claim with DELETE once they hold a few.
A sampler process reads every provider's usage the whole time.

The test fails if usage is ever seen above capacity, if the final usage
of a provider differs from what the clients believe they hold there, or
if any request answered 5xx.  Loops are bounded and every wait has a
deadline.
"""

import multiprocessing
import time
import uuid

import pytest

from tests.live_server import request

PROCESSES = 6
PROVIDERS = 3
CAPACITY = 8
CLAIMS_PER_PROCESS = 30
HOLD = 5
DEADLINE = 240
VERSION = 'placement 1.28'
CONFLICT = 'placement.concurrent_update'


def _claim(port, provider, report):
    """PUT one VCPU for a new consumer: 'ok', 'full' or 'error'."""
    consumer = str(uuid.uuid4())
    for _ in range(50):
        status, body = request(
            port, 'PUT', '/allocations/%s' % consumer, version=VERSION,
            body={'allocations': {provider: {'resources': {'VCPU': 1}}},
                  'project_id': 'project', 'user_id': 'user',
                  'consumer_generation': None})
        report['statuses'].append(status)
        if status == 204:
            return 'ok', consumer
        code = body['errors'][0].get('code') if isinstance(body, dict) \
            else None
        if status == 409 and code == CONFLICT:
            report['conflicts'] += 1
            continue
        if status == 409 and 'exceed the capacity' in str(body):
            return 'full', None
        report['unexpected'].append(('PUT', status, body))
        return 'error', None
    report['unexpected'].append(('gave up claiming', provider))
    return 'error', None


def client_process(args):
    port, providers, seed = args
    report = {'statuses': [], 'conflicts': 0, 'unexpected': [],
              'claims': 0, 'full': 0}
    held = []  # (provider, consumer)
    deadline = time.monotonic() + DEADLINE
    turn = seed
    for _ in range(CLAIMS_PER_PROCESS):
        if time.monotonic() > deadline:
            break
        for attempt in range(len(providers)):
            provider = providers[(turn + attempt) % len(providers)]
            outcome, consumer = _claim(port, provider, report)
            if outcome == 'ok':
                held.append((provider, consumer))
                report['claims'] += 1
                break
            if outcome == 'error':
                break
            report['full'] += 1
        turn += 1
        if len(held) >= HOLD:
            provider, consumer = held.pop(0)
            status, body = request(port, 'DELETE',
                                   '/allocations/%s' % consumer,
                                   version=VERSION)
            report['statuses'].append(status)
            if status != 204:
                report['unexpected'].append(('DELETE', status, body))
    report['held'] = held
    return report


def sampler_process(args):
    port, providers, stop_after = args
    seen = []
    deadline = time.monotonic() + stop_after
    while time.monotonic() < deadline:
        for provider in providers:
            status, body = request(
                port, 'GET', '/resource_providers/%s/usages' % provider)
            if status == 200:
                seen.append(body['usages'].get('VCPU', 0))
            else:
                seen.append(('status', status))
    return seen


def test_capacity_never_exceeded(server, backend):
    port, log_path = server
    providers = []
    for n in range(PROVIDERS):
        rp = str(uuid.uuid4())
        status, body = request(port, 'POST', '/resource_providers',
                               body={'name': 'small-%d' % n, 'uuid': rp})
        assert status == 200, body
        status, body = request(
            port, 'PUT', '/resource_providers/%s/inventories' % rp,
            body={'resource_provider_generation': 0,
                  'inventories': {'VCPU': {'total': CAPACITY}}})
        assert status == 200, body
        providers.append(rp)

    context = multiprocessing.get_context('spawn')
    with context.Pool(PROCESSES + 1) as pool:
        sampling = pool.apply_async(sampler_process,
                                    ((port, providers, 20),))
        clients = pool.map_async(
            client_process,
            [(port, providers, seed) for seed in range(PROCESSES)])
        try:
            reports = clients.get(timeout=DEADLINE + 30)
            samples = sampling.get(timeout=60)
        except multiprocessing.TimeoutError:
            pytest.fail('clients did not finish within the deadline')

    statuses = [s for r in reports for s in r['statuses']]
    unexpected = [u for r in reports for u in r['unexpected']]
    with open(log_path) as log:
        server_log = log.read()
    print('%s: %d requests, %d claims, %d full answers, %d conflicts, '
          '%d samples' % (backend, len(statuses),
                          sum(r['claims'] for r in reports),
                          sum(r['full'] for r in reports),
                          sum(r['conflicts'] for r in reports), len(samples)))
    assert not [s for s in statuses if s >= 500], server_log[-3000:]
    assert not unexpected, unexpected[:5]
    assert samples and all(isinstance(s, int) for s in samples), samples[:5]
    assert max(samples) <= CAPACITY
    # Providers filled up at some point, so capacity was really contended.
    assert sum(r['full'] for r in reports) > 0

    believed = {rp: 0 for rp in providers}
    for report in reports:
        for provider, _ in report['held']:
            believed[provider] += 1
    for provider in providers:
        status, body = request(
            port, 'GET', '/resource_providers/%s/usages' % provider)
        assert status == 200
        assert body['usages']['VCPU'] == believed[provider]
        assert body['usages']['VCPU'] <= CAPACITY
