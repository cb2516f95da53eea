"""Send the same seeded random writes and reads to two Placement
services and report where their answers differ.

Both services get the random providers of tests/compare_candidates.py,
then a sequence of operations drawn at random: allocations replaced (PUT
at microversions 1.0 to 1.38, in both body shapes, with consumer
generations and types where the version has them, now and then a wrong
generation or an amount the inventory refuses), several consumers' at
once (POST), deleted, inventories changed or deleted, providers deleted
or moved, custom classes and traits deleted, and reads of allocations,
usages, providers and provider lists at several microversions.  Two
answers agree when their statuses do and, for a read, their bodies do in
any list order.  The uuids and amounts each operation names come from
the first service's answers, so once the two differ the differences that
follow are often its consequences: read the first one first.

A consumer whose write is refused with 400 is not named again, because
OpenStack Placement keeps the row of a new consumer whose first write
it refused (later writes naming it with consumer_generation null get a
409), where this service keeps nothing.

It is for comparing this service with another implementation of the API
by hand; it is not a test.  Both services must be on fresh databases,
take noauth2's 'admin' token and listen on the loopback interface::

    .venv/bin/python -m tests.compare_writes PORT_A PORT_B \\
        --seed 1 --operations 300
"""

import json
import sys

from tests import compare_candidates
from tests import live_server

READ_VERSIONS = ['1.0', '1.9', '1.12', '1.14', '1.28', '1.37', '1.38',
                 '1.39']


def unordered(value):
    """``value`` with every list sorted, so that order does not count."""
    if isinstance(value, dict):
        return {key: unordered(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((unordered(item) for item in value),
                      key=lambda item: json.dumps(item, sort_keys=True))
    return value


class Writer:
    """Draws the operations, from what the first service answers."""

    def __init__(self, world, rng):
        self.world, self.rng = world, rng
        self.port = world.ports[0]
        self.consumers = [world.new_uuid() for _ in range(6)]
        self.owners = [(world.new_uuid(), world.new_uuid())
                       for _ in range(2)]
        self.inventories = {
            provider: self.read('/resource_providers/%s/inventories'
                                % provider)['inventories']
            for provider in world.providers}

    def read(self, path, version='1.39'):
        return live_server.request(self.port, 'GET', path, None,
                                   'placement ' + version)[1]

    def consumer_generation(self, consumer):
        return self.read('/allocations/' + consumer,
                         '1.28').get('consumer_generation')

    def amounts(self):
        """{provider: {class: amount}} over one to three providers."""
        rng = self.rng
        stocked = [provider for provider, records
                   in self.inventories.items() if records]
        wanted = {}
        for provider in rng.sample(stocked, rng.randint(1, min(3, len(
                stocked)))):
            records = self.inventories[provider]
            wanted[provider] = {}
            for name in rng.sample(sorted(records),
                                   rng.randint(1, len(records))):
                record = records[name]
                if rng.random() < 0.2:
                    amount = rng.choice([1, 2, 4, 64, 128])
                else:
                    step = record['step_size']
                    least = max(1, -(-record['min_unit'] // step))
                    amount = step * rng.randint(least, least + 2)
                wanted[provider][name] = amount
        return wanted

    def owned(self, body, version):
        project, user = self.rng.choice(self.owners)
        if version != '1.0':
            body.update(project_id=project, user_id=user)
        if version == '1.38':
            body['consumer_type'] = self.rng.choice(['INSTANCE',
                                                     'MIGRATION'])
        return body

    def put(self):
        rng = self.rng
        consumer = rng.choice(self.consumers)
        version = rng.choice(['1.0', '1.8', '1.12', '1.28', '1.36', '1.38'])
        wanted = self.amounts()
        if version in ('1.0', '1.8'):
            body = {'allocations': [
                {'resource_provider': {'uuid': provider},
                 'resources': resources}
                for provider, resources in wanted.items()]}
        else:
            body = {'allocations': {
                provider: {'resources': resources}
                for provider, resources in wanted.items()}}
        self.owned(body, version)
        if compare_candidates.at_least(version, '1.28'):
            generation = self.consumer_generation(consumer)
            if generation is not None and rng.random() < 0.1:
                body['allocations'] = {}
            if rng.random() < 0.15:
                generation = (generation or 0) + 1
            body['consumer_generation'] = generation
        return 'PUT', '/allocations/' + consumer, body, version, [consumer]

    def post(self):
        rng = self.rng
        version = rng.choice(['1.13', '1.28', '1.38'])
        body = {}
        for consumer in rng.sample(self.consumers, rng.randint(1, 3)):
            entry = self.owned({'allocations': {
                provider: {'resources': resources}
                for provider, resources in self.amounts().items()}},
                version)
            if compare_candidates.at_least(version, '1.28'):
                entry['consumer_generation'] = self.consumer_generation(
                    consumer)
                if entry['consumer_generation'] is not None and \
                        rng.random() < 0.15:
                    entry['allocations'] = {}
            body[consumer] = entry
        return 'POST', '/allocations', body, version, list(body)

    def delete(self):
        consumer = self.rng.choice(self.consumers)
        return 'DELETE', '/allocations/' + consumer, None, '1.39', []

    def inventory(self):
        rng = self.rng
        provider = rng.choice([provider for provider, records
                               in self.inventories.items() if records])
        name = rng.choice(sorted(self.inventories[provider]))
        path = '/resource_providers/%s/inventories/%s' % (provider, name)
        record = self.read(path)
        if 'total' not in record or rng.random() < 0.3:
            return 'DELETE', path, None, '1.39', []
        total = max(1, record['total'] // rng.choice([1, 2, 4, 8]))
        record.update(total=total, reserved=0,
                      max_unit=min(record['max_unit'], total))
        record['min_unit'] = min(record['min_unit'], record['max_unit'])
        return 'PUT', path, record, '1.39', []

    def other_write(self):
        rng = self.rng
        provider = rng.choice(self.world.providers)
        path = '/resource_providers/' + provider
        kind = rng.choice(['provider', 'class', 'trait', 'move', 'traits'])
        if kind == 'provider':
            return 'DELETE', path, None, '1.39', []
        if kind == 'class':
            return 'DELETE', '/resource_classes/CUSTOM_MAGIC', None, '1.39', []
        if kind == 'trait':
            return ('DELETE', '/traits/' + rng.choice(['CUSTOM_GOLD',
                                                       'CUSTOM_SILVER']),
                    None, '1.39', [])
        current = self.read(path, '1.37')
        if 'name' not in current:
            return 'GET', path, None, '1.39', []
        if kind == 'move':
            body = {'name': current['name'],
                    'parent_provider_uuid': rng.choice(
                        [None] + self.world.providers)}
            return 'PUT', path, body, rng.choice(['1.14', '1.37']), []
        body = {'traits': rng.sample(compare_candidates.TRAITS, 2),
                'resource_provider_generation': current['generation']}
        return 'PUT', path + '/traits', body, '1.39', []

    def read_one(self):
        rng = self.rng
        provider = rng.choice(self.world.providers)
        project, user = rng.choice(self.owners)
        path = rng.choice([
            '/allocations/' + rng.choice(self.consumers),
            '/resource_providers/%s/allocations' % provider,
            '/resource_providers/%s/usages' % provider,
            '/resource_providers/' + provider,
            '/resource_providers?in_tree=' + provider,
            '/resource_providers?resources=VCPU:1',
            '/usages?project_id=' + project,
            '/usages?project_id=%s&user_id=%s' % (project, user)])
        version = rng.choice(READ_VERSIONS)
        if path.startswith('/usages') and rng.random() < 0.4:
            version = rng.choice(['1.38', '1.39'])
            path += '&consumer_type=' + rng.choice(
                ['INSTANCE', 'MIGRATION', 'all', 'unknown'])
        return 'GET', path, None, version, []

    def operation(self):
        """(method, path, body, microversion, consumers named)."""
        return self.rng.choice([self.put, self.put, self.put, self.post,
                                self.delete, self.read_one, self.read_one,
                                self.inventory, self.other_write])()

    def retire(self, consumers):
        """Name other consumers from now on instead of ``consumers``."""
        for consumer in consumers:
            if consumer in self.consumers:
                self.consumers.remove(consumer)
                self.consumers.append(self.world.new_uuid())


def main(argv=None):
    args, rng, world = compare_candidates.start(
        __doc__, argv, 'operations', 300, 'writes')
    writer = Writer(world, rng)
    found, answered = 0, {}
    for number in range(args.operations):
        method, path, body, version, consumers = writer.operation()
        first, second = (live_server.request(port, method, path, body,
                                             'placement ' + version)
                         for port in args.ports)
        answered[first[0]] = answered.get(first[0], 0) + 1
        if first[0] == second[0] == 400:
            writer.retire(consumers)
        differs = first[0] != second[0] or (
            method == 'GET' and first[0] == 200
            and unordered(first[1]) != unordered(second[1]))
        if differs:
            found += 1
            print('#%d %s %s %s %s' % (number, version, method, path,
                                       json.dumps(body)[:300]))
            for port, (status, answer) in zip(args.ports, (first, second)):
                print('  %d: %d %s' % (port, status,
                                       json.dumps(answer)[:400]))
    print('seed %d, %d operations (statuses %s): %d differ' % (
        args.seed, args.operations, sorted(answered.items()), found))
    return 1 if found or world.differences else 0


if __name__ == '__main__':
    sys.exit(main())
