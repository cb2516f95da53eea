"""Send the same seeded random requests to two Placement services and
report where their answers' statuses differ.

The requests are those of tests/test_random_requests.py (well-formed
bodies with one thing changed, broken bodies, odd query values, odd
headers), with the same uuids for both services, so that two services
on fresh databases see the same requests in the same order.  It is for
comparing this service with another implementation of the API (or with
itself on another database) by hand; it is not a test, and every
difference it reports needs reading: a 500 of either service, or two
different 4xx for one request, say.  Both services must take noauth2's
'admin' token and listen on the loopback interface::

    .venv/bin/python -m tests.compare_services PORT_A PORT_B \\
        --seed 11 --requests 600 --show 20
"""

import argparse
import random
import sys
import uuid

from tests import test_random_requests as generator


def answers(port, seed, count):
    """[(number, method, path, keyword arguments, status, body)] of
    ``count`` random requests of ``seed`` sent to ``port``."""
    uuids = random.Random(seed * 1000 + 7)

    def new_uuid():
        return uuid.UUID(int=uuids.getrandbits(128), version=4)

    bodies, root = generator.well_formed(port, new_uuid)
    rng = random.Random(seed)
    sent = []
    for number in range(count):
        method, path, kwargs = generator.random_request(rng, bodies, root)
        try:
            status, body = generator.send(port, method, path, **kwargs)
        except OSError as error:
            status, body = 0, repr(error).encode()
        sent.append((number, method, path, kwargs, status, body))
    return sent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ports', nargs=2, type=int)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--requests', type=int, default=600)
    parser.add_argument('--show', type=int, default=20,
                        help='differences printed in full')
    args = parser.parse_args(argv)
    first, second = (answers(port, args.seed, args.requests)
                     for port in args.ports)
    differ = [(a, b) for a, b in zip(first, second) if a[4] != b[4]]
    print('seed %d, %d requests: %d with different statuses; 5xx: %d on '
          '%d, %d on %d' % (
              args.seed, args.requests, len(differ),
              sum(a[4] >= 500 for a in first), args.ports[0],
              sum(b[4] >= 500 for b in second), args.ports[1]))
    for a, b in differ[:args.show]:
        number, method, path, kwargs = a[:4]
        print('#%d %s %s %s' % (number, method, path[:100],
                                repr(kwargs)[:300]))
        for port, answer in zip(args.ports, (a, b)):
            print('  %d: %d %s' % (port, answer[4], answer[5][:300]))
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
