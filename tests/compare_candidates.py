"""Build the same seeded random providers on two Placement services, ask
both the same seeded random allocation candidate queries, and report
where their answers differ.

The providers are a few compute trees (a root with NUMA children and
devices below them) and sharing providers, with random inventories
(reserved, min_unit, max_unit, step_size, allocation_ratio), traits,
aggregates and some allocations.  The queries are drawn for a random
microversion from 1.10 to 1.39 from what it allows: request groups with
suffixes, required and forbidden traits, member_of, in_tree,
group_policy, root_required, same_subtree and limit.  Two answers agree
when their statuses do and, for a 200, their allocation requests and
provider summaries do in any order (with ``limit``, their counts).  It
is for checking this service's candidates against another
implementation of the API by hand; it is not a test.  Both services must
be on fresh databases, take noauth2's 'admin' token and listen on the
loopback interface::

    .venv/bin/python -m tests.compare_candidates PORT_A PORT_B \\
        --seed 1 --queries 150
"""

import argparse
import json
import random
import sys
import urllib.parse
import uuid

from placement import microversion
from tests import live_server

TRAITS = ['HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE2', 'STORAGE_DISK_SSD',
          'HW_NIC_OFFLOAD_GENEVE', 'CUSTOM_GOLD', 'CUSTOM_SILVER']
AMOUNTS = {'VCPU': [1, 2, 3], 'MEMORY_MB': [64, 128, 256, 512],
           'DISK_GB': [10, 64, 256], 'SRIOV_NET_VF': [1, 2],
           'CUSTOM_MAGIC': [1, 2], 'VGPU': [1], 'IPV4_ADDRESS': [1, 2]}
LARGE = ('MEMORY_MB', 'DISK_GB')
VERSIONS = ['1.%d' % minor for minor in range(10, 40)]


def at_least(version, minimum):
    return microversion.to_tuple(version) >= microversion.to_tuple(minimum)


class World:
    """Writes the same things to both services."""

    def __init__(self, ports, rng, seed):
        self.ports, self.rng = ports, rng
        uuids = random.Random(seed * 1000 + 7)
        self.new_uuid = lambda: str(uuid.UUID(int=uuids.getrandbits(128),
                                              version=4))
        self.aggregates = [self.new_uuid() for _ in range(3)]
        self.providers = []
        self.differences = []

    def both(self, method, path, body=None, version='1.39'):
        answers = [live_server.request(port, method, path, body,
                                       'placement ' + version)
                   for port in self.ports]
        if answers[0][0] != answers[1][0]:
            self.differences.append((method, path, body, answers))
        return answers[0]

    def generation(self, provider):
        return self.both('GET', '/resource_providers/' + provider)[1][
            'generation']

    def provider(self, name, parent=None):
        provider = self.new_uuid()
        body = {'name': name, 'uuid': provider}
        if parent:
            body['parent_provider_uuid'] = parent
        self.both('POST', '/resource_providers', body)
        self.providers.append(provider)
        return provider

    def inventory(self, provider, classes):
        rng, records = self.rng, {}
        for name in classes:
            scale = 256 if name in LARGE else 1
            total = rng.choice([1, 2, 4, 8, 16]) * scale
            records[name] = {
                'total': total,
                'reserved': rng.choice([0, 0, min(total, scale)]),
                'min_unit': rng.choice([1, 1, 2]),
                'max_unit': rng.choice([total, total, max(1, total // 2)]),
                'step_size': rng.choice([1, 1, 2]),
                'allocation_ratio': rng.choice([1.0, 1.0, 2.0, 0.5])}
        self.both('PUT', '/resource_providers/%s/inventories' % provider,
                  {'inventories': records,
                   'resource_provider_generation': self.generation(provider)})

    def traits(self, provider, extra=()):
        names = set(self.rng.sample(TRAITS, self.rng.randint(0, 3)))
        self.both('PUT', '/resource_providers/%s/traits' % provider,
                  {'traits': sorted(names | set(extra)),
                   'resource_provider_generation': self.generation(provider)})

    def join(self, provider, count):
        self.both('PUT', '/resource_providers/%s/aggregates' % provider,
                  {'aggregates': self.rng.sample(self.aggregates, count),
                   'resource_provider_generation': self.generation(provider)})

    def build(self, prefix):
        rng = self.rng
        self.both('PUT', '/resource_classes/CUSTOM_MAGIC', version='1.7')
        for name in TRAITS:
            if name.startswith('CUSTOM_'):
                self.both('PUT', '/traits/' + name, version='1.6')
        for tree in range(rng.randint(2, 5)):
            root = self.provider('%s-cn%d' % (prefix, tree))
            self.inventory(root, rng.sample(['VCPU', 'MEMORY_MB', 'DISK_GB'],
                                            rng.randint(0, 3)))
            self.traits(root)
            self.join(root, rng.randint(0, 2))
            for numa in range(rng.choice([0, 0, 1, 2])):
                cell = self.provider('%s-cn%d-numa%d' % (prefix, tree, numa),
                                     root)
                self.inventory(cell, rng.sample(['VCPU', 'MEMORY_MB'],
                                                rng.randint(0, 2)))
                if rng.random() < .5:
                    self.traits(cell)
                for number in range(rng.choice([0, 1, 2])):
                    device = self.provider('%s-cn%d-numa%d-dev%d' % (
                        prefix, tree, numa, number), cell)
                    self.inventory(device, rng.sample(
                        ['SRIOV_NET_VF', 'CUSTOM_MAGIC', 'VGPU'],
                        rng.randint(0, 2)))
                    if rng.random() < .6:
                        self.traits(device)
        for number in range(rng.choice([0, 1, 1, 2])):
            shared = self.provider('%s-share%d' % (prefix, number))
            self.inventory(shared, rng.sample(['DISK_GB', 'IPV4_ADDRESS'],
                                              rng.randint(1, 2)))
            sharing = rng.random() < .85
            self.traits(shared, ['MISC_SHARES_VIA_AGGREGATE'] if sharing
                        else [])
            self.join(shared, rng.randint(1, 2))
        for _ in range(rng.randint(0, 4)):
            self.allocate()

    def allocate(self):
        provider = self.rng.choice(self.providers)
        records = live_server.request(
            self.ports[0], 'GET',
            '/resource_providers/%s/inventories' % provider)[1]['inventories']
        if not records:
            return
        name = self.rng.choice(sorted(records))
        record = records[name]
        self.both('PUT', '/allocations/' + self.new_uuid(), {
            'allocations': {provider: {'resources': {
                name: max(record['min_unit'], record['step_size'])}}},
            'project_id': self.new_uuid(), 'user_id': self.new_uuid(),
            'consumer_generation': None}, version='1.28')


def query(rng, world):
    """(microversion, [(name, value)]) of one random query."""
    version = rng.choice(VERSIONS)
    params = []

    def resources():
        names = rng.sample(sorted(AMOUNTS), rng.choice([1, 1, 2, 2, 3]))
        return ','.join('%s:%d' % (name, rng.choice(AMOUNTS[name]))
                        for name in names)

    def required(any_of=True):
        names = rng.sample(TRAITS + ['MISC_SHARES_VIA_AGGREGATE'],
                           rng.randint(1, 2))
        if any_of and at_least(version, '1.39') and rng.random() < .3:
            return 'in:' + ','.join(names)
        return ','.join(
            '!' + name if at_least(version, '1.22') and rng.random() < .3
            else name for name in names)

    def member_of():
        chosen = rng.sample(world.aggregates, rng.randint(1, 2))
        value = 'in:' + ','.join(chosen) if len(chosen) > 1 else chosen[0]
        if at_least(version, '1.32') and rng.random() < .3:
            value = '!' + value
        return value

    def group(suffix, resourceless=False):
        if not resourceless:
            params.append(('resources' + suffix, resources()))
        if at_least(version, '1.17') and (resourceless or rng.random() < .35):
            params.append(('required' + suffix, required()))
        if at_least(version, '1.21') and rng.random() < .25:
            params.append(('member_of' + suffix, member_of()))
        if at_least(version, '1.31') and rng.random() < .15:
            params.append(('in_tree' + suffix, rng.choice(world.providers)))

    if rng.random() < .85 or not at_least(version, '1.25'):
        group('')
    suffixes = []
    if at_least(version, '1.25'):
        for number in range(rng.choice([0, 0, 1, 2, 3])):
            suffix = str(number + 1)
            if at_least(version, '1.33') and rng.random() < .5:
                suffix = rng.choice(['_A', '_B', '_NET', 'X'])
            if suffix not in suffixes:
                suffixes.append(suffix)
                group(suffix, at_least(version, '1.36') and rng.random() < .2)
        if (len(suffixes) > 1 or rng.random() < .3) and rng.random() < .9:
            params.append(('group_policy', rng.choice(['none', 'isolate'])))
    if at_least(version, '1.35') and rng.random() < .25:
        params.append(('root_required', required(any_of=False)))
    if at_least(version, '1.36') and len(suffixes) > 1 and rng.random() < .5:
        params.append(('same_subtree', ','.join(
            rng.sample(suffixes, rng.randint(2, len(suffixes))))))
    if at_least(version, '1.16') and rng.random() < .15:
        params.append(('limit', str(rng.randint(1, 4))))
    return version, params


def comparable(body):
    """(sorted allocation requests as JSON, summaries with sorted
    traits) of a 200 answer."""
    requests = []
    for request in body['allocation_requests']:
        request = dict(request)
        if isinstance(request['allocations'], list):
            request['allocations'] = sorted(
                request['allocations'],
                key=lambda item: item['resource_provider']['uuid'])
        if 'mappings' in request:
            request['mappings'] = {suffix: sorted(providers) for
                                   suffix, providers in
                                   request['mappings'].items()}
        requests.append(json.dumps(request, sort_keys=True))
    summaries = body['provider_summaries']
    for summary in summaries.values():
        if 'traits' in summary:
            summary['traits'] = sorted(summary['traits'])
    return sorted(requests), summaries


def difference(first, second, limited):
    """What differs between two answers to one query, or None."""
    if first[0] != second[0]:
        return 'status %d against %d' % (first[0], second[0])
    if first[0] != 200:
        return None
    (requests_a, summaries_a), (requests_b, summaries_b) = (
        comparable(first[1]), comparable(second[1]))
    if limited:
        if len(requests_a) != len(requests_b):
            return '%d candidates against %d' % (len(requests_a),
                                                 len(requests_b))
        return None
    if requests_a != requests_b:
        only_a = sorted(set(requests_a) - set(requests_b))
        only_b = sorted(set(requests_b) - set(requests_a))
        return 'candidates: only in the first %s; only in the second %s' % (
            only_a[:2], only_b[:2])
    if summaries_a != summaries_b:
        return 'provider summaries differ'
    return None


def start(doc, argv, count, default, prefix):
    """Read the command line of a comparison whose module docstring is
    ``doc`` (two ports, ``--seed``, and ``--<count>`` of what it sends),
    then build the seeded providers on both services, printing any step
    whose statuses differ: (arguments, random generator, World)."""
    parser = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    parser.add_argument('ports', nargs=2, type=int)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--' + count, type=int, default=default)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    world = World(args.ports, rng, args.seed)
    world.build('%s%d' % (prefix, args.seed))
    for method, path, body, answers in world.differences:
        print('setting up, %s %s differs: %s' % (method, path, [
            status for status, _ in answers]))
    return args, rng, world


def main(argv=None):
    args, rng, world = start(__doc__, argv, 'queries', 150, 'seed')
    found, answered = 0, {}
    for _ in range(args.queries):
        version, params = query(rng, world)
        path = '/allocation_candidates?' + urllib.parse.urlencode(params)
        first, second = (live_server.request(port, 'GET', path, None,
                                             'placement ' + version)
                         for port in args.ports)
        answered[first[0]] = answered.get(first[0], 0) + 1
        limited = any(name == 'limit' for name, _ in params)
        what = difference(first, second, limited)
        if what:
            found += 1
            print('%s %s\n  %s' % (version, urllib.parse.unquote(path),
                                   what))
            if first[0] != second[0]:
                for port, (status, body) in zip(args.ports,
                                                (first, second)):
                    print('  %d: %d %s' % (port, status, str(body)[:300]))
    print('seed %d, %d queries (statuses %s): %d differ' % (
        args.seed, args.queries, sorted(answered.items()), found))
    return 1 if found or world.differences else 0


if __name__ == '__main__':
    sys.exit(main())
