"""Several clients updating the traits (or aggregates) of ONE provider.

Each client adds its own items one at a time: GET the list and the
provider generation, add the item, PUT the list with that generation;
on 409 ``placement.concurrent_update`` it starts again from the GET.
Afterwards the provider must hold every item a client was told was
stored (``lost_updates`` = 0), no two successes may have started from
the same generation (``same_base_generation`` = 0), the generation must
have moved once per success (``generation_drift`` = 0) and nothing may
have answered 5xx.
"""

import collections
import threading
import time
import uuid

from placement_bench.scenarios.base import register

CONCURRENT_UPDATE = 'placement.concurrent_update'


class _Subject:
    """What is contended: the traits or the aggregates list."""

    def __init__(self, key, version):
        self.key = key
        self.version = version

    def path(self, provider):
        return '/resource_providers/%s/%s' % (provider, self.key)


def _items_for(ctx, key, run_id):
    clients, updates = ctx.options.contention_clients, ctx.options.updates
    if key == 'traits':
        return [['CUSTOM_BENCH_%s_%d_%d' % (run_id, c, j)
                 for j in range(updates)] for c in range(clients)]
    return [[str(uuid.uuid4()) for _ in range(updates)]
            for _ in range(clients)]


def _setup(ctx, subject, items, run_id):
    client = ctx.client()
    provider = str(uuid.uuid4())
    resp = client.request('POST', '/resource_providers',
                          {'uuid': provider,
                           'name': 'bench-contention-%s-%s'
                                   % (subject.key, run_id)},
                          version=ctx.version)
    if not resp.ok:
        raise RuntimeError('POST /resource_providers: %s %r'
                           % (resp.status, resp.body[:300]))
    if subject.key == 'traits':
        for name in (n for per_client in items for n in per_client):
            resp = client.request('PUT', '/traits/' + name,
                                  version=ctx.version)
            if resp.status not in (201, 204):
                raise RuntimeError('PUT /traits/%s: %s %r'
                                   % (name, resp.status, resp.body[:300]))
    client.close()
    return provider


def _read(client, subject, provider):
    resp = client.request('GET', subject.path(provider),
                          version=subject.version,
                          label='GET %s' % subject.key)
    if not resp.ok:
        return resp, None, None
    doc = resp.json() or {}
    return resp, doc.get('resource_provider_generation'), \
        list(doc.get(subject.key) or [])


def _contend(ctx, subject):
    run_id = uuid.uuid4().hex[:8].upper()
    items = _items_for(ctx, subject.key, run_id)
    provider = _setup(ctx, subject, items, run_id)
    checker = ctx.client()
    _, start_generation, _ = _read(checker, subject, provider)
    successes = []   # (item, generation read, generation returned)
    counts = collections.Counter()
    lock = threading.Lock()
    max_attempts = ctx.options.max_attempts
    deadline = ctx.deadline()

    def worker(client, index):
        for item in items[index]:
            for _attempt in range(max_attempts):  # bounded retries
                if deadline.expired():
                    break
                resp, generation, current = _read(client, subject, provider)
                if generation is None:
                    with lock:
                        counts['read_%d' % resp.status] += 1
                    time.sleep(0.01)
                    continue
                if item not in current:
                    current.append(item)
                resp = client.request(
                    'PUT', subject.path(provider),
                    {subject.key: current,
                     'resource_provider_generation': generation},
                    version=subject.version, label='PUT %s' % subject.key)
                if resp.ok:
                    new = (resp.json() or {}).get(
                        'resource_provider_generation')
                    with lock:
                        successes.append((item, generation, new))
                    break
                with lock:
                    if resp.status == 409 and \
                            resp.error_code == CONCURRENT_UPDATE:
                        counts['conflicts'] += 1
                    else:
                        counts['write_%d' % resp.status] += 1
                        time.sleep(0.01)

    figures, result = ctx.measure_clients(
        ctx.options.contention_clients, worker, lambda r: len(successes))
    _, end_generation, present = _read(checker, subject, provider)
    checker.close()
    acknowledged = {s[0] for s in successes}
    bases = collections.Counter(s[1] for s in successes)
    unexpected = sum(n for key, n in counts.items()
                     if key.startswith(('read_', 'write_')))
    figures.update({
        'updates': len(successes),
        'updates_per_s': figures['ops_per_s'],
        'conflicts_409': counts['conflicts'],
        'retries_per_update': round(counts['conflicts']
                                    / max(len(successes), 1), 2),
        'unexpected_answers': unexpected,
        # Items never stored: out of attempts, or the deadline passed.
        'gave_up': sum(len(i) for i in items) - len(successes),
        'lost_updates': len(acknowledged - set(present or ())),
        'same_base_generation': sum(n - 1 for n in bases.values() if n > 1),
        'generation_drift': ((end_generation - start_generation)
                             - len(successes)
                             if None not in (end_generation,
                                             start_generation) else None),
    })
    return figures


@register('trait-contention',
          'clients add their own traits to one provider (GET, PUT with '
          'generation, retry on 409)', throughput='updates_per_s')
def trait_contention(ctx):
    return _contend(ctx, _Subject('traits', ctx.version))


@register('aggregate-contention',
          'clients add their own aggregates to one provider (GET, PUT with '
          'generation, retry on 409)', throughput='updates_per_s')
def aggregate_contention(ctx):
    return _contend(ctx, _Subject('aggregates', ctx.version))
