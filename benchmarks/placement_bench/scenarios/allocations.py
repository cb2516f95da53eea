"""Allocation claims and releases against providers of limited capacity.

``--alloc-providers`` providers offer ``--alloc-capacity`` VCPU each.
Every client claims VCPU:1 + MEMORY_MB:512 for a fresh consumer
(``PUT /allocations/{consumer}``), holds at most ``--alloc-hold`` claims
and releases the oldest (``DELETE``) before claiming again.  A 409
``placement.concurrent_update`` is retried on the same provider; any
other 409 is a capacity refusal and the client tries the next provider.

Checks (all must be 0):

- ``overcommit``: claims a client had been told were stored and had not
  yet asked to release, held at the same instant on one provider,
  beyond its capacity (an interval sweep, so it never over-reports);
- ``usage_mismatch``: before the final releases, each provider's VCPU
  usage must equal the claims the clients hold on it;
- ``errors_5xx``, ``failed`` (releases that did not answer 204) and
  ``gave_up`` (claims out of attempts for a reason other than full
  providers; those are ``abandoned_full``, which the demand allows).
"""

import collections
import threading
import time
import uuid

from placement_bench.scenarios.base import register

CONCURRENT_UPDATE = 'placement.concurrent_update'
CLAIM = {'VCPU': 1, 'MEMORY_MB': 512}


def _version_at_least(version, wanted):
    return tuple(int(x) for x in version.split('.')) >= wanted


def _claim_body(ctx, provider):
    body = {'allocations': {provider: {'resources': dict(CLAIM)}},
            'project_id': 'bench-project', 'user_id': 'bench-user',
            'consumer_generation': None}
    if _version_at_least(ctx.version, (1, 38)):
        body['consumer_type'] = 'INSTANCE'
    return body


def _make_providers(ctx):
    client = ctx.client()
    capacity = ctx.options.alloc_capacity
    providers = []
    for n in range(ctx.options.alloc_providers):
        provider = str(uuid.uuid4())
        resp = client.request('POST', '/resource_providers',
                              {'uuid': provider, 'name': 'bench-alloc-%s-%d'
                               % (provider[:8], n)}, version=ctx.version)
        if not resp.ok:
            raise RuntimeError('POST /resource_providers: %s %r'
                               % (resp.status, resp.body[:300]))
        inventories = {
            'VCPU': {'total': capacity, 'max_unit': capacity},
            'MEMORY_MB': {'total': CLAIM['MEMORY_MB'] * capacity * 4,
                          'max_unit': CLAIM['MEMORY_MB']}}
        resp = client.request(
            'PUT', '/resource_providers/%s/inventories' % provider,
            {'resource_provider_generation': resp.json()['generation'],
             'inventories': inventories}, version=ctx.version)
        if not resp.ok:
            raise RuntimeError('PUT inventories: %s %r'
                               % (resp.status, resp.body[:300]))
        providers.append(provider)
    client.close()
    return providers


def max_overlap(intervals):
    """Most intervals (start, end) open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] +
                    [(e, -1) for _, e in intervals])
    held = peak = 0
    for _, step in events:  # at a tie, the release (-1) sorts first
        held += step
        peak = max(peak, held)
    return peak


def _vcpu_usage(client, ctx, provider):
    resp = client.request('GET', '/resource_providers/%s/usages' % provider,
                          version=ctx.version)
    if not resp.ok:
        return None
    return ((resp.json() or {}).get('usages') or {}).get('VCPU', 0)


@register('allocations',
          'clients claim and release VCPU on providers of limited capacity',
          throughput='claims_per_s')
def allocations(ctx):
    opts = ctx.options
    providers = _make_providers(ctx)
    deadline = ctx.deadline()
    lock = threading.Lock()
    counts = collections.Counter()
    intervals = collections.defaultdict(list)   # provider -> [(start, end)]
    still_held = []                             # (consumer, provider, t)

    def release(client, consumer, provider, acked_at):
        sent_at = time.perf_counter()
        resp = client.request('DELETE', '/allocations/%s' % consumer,
                              version=ctx.version,
                              label='DELETE /allocations/{consumer}')
        with lock:
            intervals[provider].append((acked_at, sent_at))
            counts['releases' if resp.status == 204 else 'failed'] += 1

    def claim(client, index):
        """One claim, trying providers in turn: (consumer, provider, time
        it was acknowledged), or None."""
        position = index
        full = False
        for _attempt in range(opts.max_attempts):  # bounded retries
            if deadline.expired():
                return None
            provider = providers[position % len(providers)]
            consumer = str(uuid.uuid4())
            resp = client.request('PUT', '/allocations/%s' % consumer,
                                  _claim_body(ctx, provider),
                                  version=ctx.version,
                                  label='PUT /allocations/{consumer}')
            if resp.status == 204:
                return consumer, provider, time.perf_counter()
            with lock:
                if resp.status == 409 and \
                        resp.error_code == CONCURRENT_UPDATE:
                    counts['conflicts'] += 1
                elif resp.status == 409:
                    counts['capacity_rejects'] += 1
                else:
                    counts['claim_%d' % resp.status] += 1
            full = resp.status == 409 and \
                resp.error_code != CONCURRENT_UPDATE
            if full:
                position += 1
                if position % len(providers) == index % len(providers):
                    time.sleep(0.02)   # every provider is full: wait
        with lock:
            # Out of attempts while every provider was full is what the
            # demand allows, not a failure of the service.
            counts['abandoned_full' if full else 'gave_up'] += 1
        return None

    def worker(client, index):
        held = collections.deque()
        for _ in range(opts.alloc_claims):
            if deadline.expired():
                break
            if len(held) >= opts.alloc_hold:
                release(client, *held.popleft())
            got = claim(client, index)
            if got is not None:
                held.append(got)
                with lock:
                    counts['claims'] += 1
        with lock:
            still_held.extend(held)

    figures, _ = ctx.measure_clients(opts.alloc_clients, worker,
                                     lambda r: counts['claims'])
    checker = ctx.client()
    ledger = collections.Counter(h[1] for h in still_held)
    mismatch = 0
    for provider in providers:
        usage = _vcpu_usage(checker, ctx, provider)
        mismatch += abs((usage if usage is not None else -1)
                        - ledger[provider])
    for consumer, provider, acked_at in still_held:
        release(checker, consumer, provider, acked_at)
    leftover = sum(_vcpu_usage(checker, ctx, p) or 0 for p in providers)
    checker.close()
    peak = max(max_overlap(i) for i in intervals.values()) \
        if intervals else 0
    unexpected = sum(n for k, n in counts.items() if k.startswith('claim_'))
    figures.update({
        'claims': counts['claims'],
        'claims_per_s': figures['ops_per_s'],
        'releases': counts['releases'],
        'capacity_rejects': counts['capacity_rejects'],
        'conflicts_409': counts['conflicts'],
        'unexpected_answers': unexpected,
        'gave_up': counts['gave_up'],
        'abandoned_full': counts['abandoned_full'],
        'failed': counts['failed'],
        'peak_held_per_provider': peak,
        'overcommit': max(0, peak - opts.alloc_capacity),
        'usage_mismatch': mismatch + leftover,
    })
    return figures
