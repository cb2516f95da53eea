#!/usr/bin/env python3
"""In-process cost of one request to this project's WSGI app.

Runs in the project's venv (it imports ``placement``): builds the
application on a fresh database, calls it directly with WSGI environs
(no HTTP, no gunicorn, no client), and prints microseconds of wall and
CPU per request for each case; ``--profile`` adds a cProfile listing.
With a local PostgreSQL or MariaDB it also reports the database
server's CPU per request (every process of the server, so run it on an
otherwise idle server).  This is the tool for finding per-request
overhead; ``bench.py``
measures the service as users see it.

    .venv/bin/python benchmarks/wsgi_profile.py --db postgresql \\
        --cases root show create --requests 2000 --profile 25
"""

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync

SERVERS = {
    'postgresql': 'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres',
    'mysql': 'mysql+pymysql://root@127.0.0.1:3306/mysql',
}
VERSION = 'placement 1.39'


def fresh_database(backend, tmpdir):
    """(url, drop function) of an empty database."""
    if backend == 'sqlite':
        return 'sqlite:///%s/placement.sqlite' % tmpdir, lambda: None
    name = 'placement_profile_%d' % os.getpid()
    server = sa.engine.make_url(SERVERS[backend])
    engine = sa.create_engine(server, isolation_level='AUTOCOMMIT')

    def run(statement):
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    run('DROP DATABASE IF EXISTS %s' % name)
    run('CREATE DATABASE %s' % name)
    url = server.set(database=name).render_as_string(hide_password=False)
    force = ' WITH (FORCE)' if backend == 'postgresql' else ''
    return url, lambda: run('DROP DATABASE IF EXISTS %s%s' % (name, force))


def environ(method, path, body=None):
    query = ''
    if '?' in path:
        path, query = path.split('?', 1)
    data = json.dumps(body).encode() if body is not None else b''
    env = {'REQUEST_METHOD': method, 'PATH_INFO': path,
           'QUERY_STRING': query, 'SERVER_NAME': '127.0.0.1',
           'SERVER_PORT': '80', 'SERVER_PROTOCOL': 'HTTP/1.1',
           'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(data),
           'wsgi.errors': sys.stderr, 'wsgi.version': (1, 0),
           'wsgi.multithread': False, 'wsgi.multiprocess': True,
           'wsgi.run_once': False, 'HTTP_X_AUTH_TOKEN': 'admin',
           'HTTP_ACCEPT': 'application/json',
           'HTTP_OPENSTACK_API_VERSION': VERSION}
    if data:
        env['CONTENT_TYPE'] = 'application/json'
        env['CONTENT_LENGTH'] = str(len(data))
    return env


_SERVER_COMMANDS = {'postgresql': ('postgres',),
                    'mysql': ('mariadbd', 'mysqld')}


def server_cpu(backend):
    """Seconds of CPU the local database server's processes have used
    (None for SQLite, which runs inside this process)."""
    names = _SERVER_COMMANDS.get(backend)
    if not names:
        return None
    ticks = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                stat = f.read()
        except OSError:
            continue
        command, fields = stat[stat.index('(') + 1:stat.rindex(')')], \
            stat[stat.rindex(')') + 2:].split()
        if command in names:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


def call(app, method, path, body=None):
    status = []
    chunks = app(environ(method, path, body),
                 lambda s, h, exc_info=None: status.append(s))
    payload = b''.join(chunks)
    return int(status[0].split()[0]), payload


def cases(app, providers):
    """name -> function(i) making one request; checked for 2xx."""
    run_id = uuid.uuid4().hex[:6]
    trait_provider = providers[0]
    alloc_provider = providers[1]
    call(app, 'PUT', '/resource_providers/%s/inventories' % alloc_provider,
         {'resource_provider_generation': 0, 'inventories': _INVENTORY})
    serial = itertools.count()
    return {
        'root': lambda i: call(app, 'GET', '/'),
        'show': lambda i: call(app, 'GET', '/resource_providers/%s'
                               % providers[i % len(providers)]),
        'list': lambda i: call(app, 'GET', '/resource_providers'),
        'create': lambda i: call(app, 'POST', '/resource_providers',
                                 {'name': 'p-%s-%d' % (run_id,
                                                       next(serial))}),
        'create-child': lambda i: call(app, 'POST', '/resource_providers', {
            'name': 'c-%s-%d' % (run_id, next(serial)),
            'parent_provider_uuid': providers[i % len(providers)]}),
        'traits-put': lambda i: _put_traits(app, trait_provider, i),
        'aggregates-put': lambda i: _put_aggregates(app, trait_provider, i),
        'stale-put': lambda i: _put_aggregates(app, trait_provider, i,
                                               stale=True),
        'custom-traits-put': lambda i: _put_custom_traits(
            app, providers[2], i),
        'stale-traits-put': lambda i: _put_custom_traits(
            app, providers[2], i, stale=True),
        'populate': lambda i: _populate(app, 'n-%s-%d' % (run_id,
                                                          next(serial))),
        'claim-release': lambda i: _claim_release(app, alloc_provider),
    }


_INVENTORY = {'VCPU': {'total': 32, 'max_unit': 16},
              'MEMORY_MB': {'total': 8192, 'min_unit': 128},
              'DISK_GB': {'total': 8192, 'min_unit': 5}}
_AGGREGATES = ['14a5c8a3-5a99-4e8f-88be-00d85fcb1c17',
               '66d98e7c-3c25-485d-a0dc-1cea651884de']


def _populate(app, name):
    """A compute node: create, then PUT inventories, aggregates, traits
    (four requests, reported per request)."""
    status, body = call(app, 'POST', '/resource_providers', {'name': name})
    provider = json.loads(body)
    base = '/resource_providers/%s' % provider['uuid']
    status, body = call(app, 'PUT', base + '/inventories',
                        {'resource_provider_generation':
                         provider['generation'], 'inventories': _INVENTORY})
    generation = json.loads(body)['resource_provider_generation']
    status, body = call(app, 'PUT', base + '/aggregates',
                        {'resource_provider_generation': generation,
                         'aggregates': _AGGREGATES})
    generation = json.loads(body)['resource_provider_generation']
    return call(app, 'PUT', base + '/traits',
                {'resource_provider_generation': generation,
                 'traits': ['HW_CPU_X86_AVX2', 'STORAGE_DISK_SSD']})


def _claim_release(app, provider):
    """A new consumer claims VCPU and MEMORY_MB on one provider (1.28,
    as schedulers do), then gives them back: two requests."""
    consumer = str(uuid.uuid4())
    path = '/allocations/%s' % consumer
    status, body = call(app, 'PUT', path, {
        'allocations': {provider: {'resources': {'VCPU': 1,
                                                 'MEMORY_MB': 512}}},
        'project_id': 'p', 'user_id': 'u', 'consumer_generation': None,
        'consumer_type': 'INSTANCE'})
    if status != 204:
        return status, body
    return call(app, 'DELETE', path)


def _put_traits(app, provider, i):
    status, body = call(app, 'GET', '/resource_providers/%s/traits'
                        % provider)
    generation = json.loads(body)['resource_provider_generation']
    traits = ['HW_CPU_X86_AVX2'] if i % 2 else ['HW_CPU_X86_SSE2']
    return call(app, 'PUT', '/resource_providers/%s/traits' % provider,
                {'traits': traits, 'resource_provider_generation':
                 generation})


_MANY_AGGREGATES = [str(uuid.UUID(int=n + 1)) for n in range(51)]


_CUSTOM_TRAITS = ['CUSTOM_PROFILE_%d' % n for n in range(51)]


def _put_custom_traits(app, provider, i, stale=False):
    """As placebench's trait contention: the provider's ~50 custom
    traits plus one more, or (``stale``) a PUT that lost the race."""
    if i == 10 ** 6:  # the first warm-up call creates the traits
        for name in _CUSTOM_TRAITS:
            call(app, 'PUT', '/traits/' + name)
    path = '/resource_providers/%s/traits' % provider
    status, body = call(app, 'GET', path)
    generation = json.loads(body)['resource_provider_generation']
    names = _CUSTOM_TRAITS[i % 2:][:50]
    status, body = call(app, 'PUT', path, {
        'traits': names,
        'resource_provider_generation': generation - 1 if stale
        else generation})
    return (200 if stale and status == 409 else status), body


def _put_aggregates(app, provider, i, stale=False):
    path = '/resource_providers/%s/aggregates' % provider
    status, body = call(app, 'GET', path)
    generation = json.loads(body)['resource_provider_generation']
    if stale:
        # A writer that lost the race: answered 409.
        status, body = call(app, 'PUT', path, {
            'aggregates': _MANY_AGGREGATES[:50],
            'resource_provider_generation': generation - 1})
        return (200 if status == 409 else status), body
    # About the size of the sets placebench's contention phase reaches,
    # one of them never seen before (as there).
    return call(app, 'PUT', path, {
        'aggregates': _MANY_AGGREGATES[i % 2:][:49] + [str(uuid.uuid4())],
        'resource_provider_generation': generation})


def _print_statements(db, name, fn):
    """Run ``fn`` once and print each statement it sent."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(' '.join(statement.split())[:400])

    engines = {db.engine, db.read_engine}
    for engine in engines:
        sa.event.listen(engine, 'after_cursor_execute', record)
    try:
        fn(2 * 10 ** 6)
    finally:
        for engine in engines:
            sa.event.remove(engine, 'after_cursor_execute', record)
    print('%s: %d statements' % (name, len(sent)))
    for statement in sent:
        print('    ' + statement)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--db', default='sqlite',
                   choices=('sqlite', 'postgresql', 'mysql'))
    p.add_argument('--cases', nargs='+', default=['root', 'show', 'create'])
    p.add_argument('--requests', type=int, default=1000)
    p.add_argument('--providers', type=int, default=100)
    p.add_argument('--repeat', type=int, default=1, metavar='K',
                   help='run each case K times and report the best run '
                        '(other load on the machine only adds time)')
    p.add_argument('--statements', action='store_true',
                   help='print the SQL statements one request of each '
                        'case sends (round trips to the database)')
    p.add_argument('--profile', type=int, default=0, metavar='N',
                   help='print the N functions with the most CPU time '
                        '(cumulative) per case')
    p.add_argument('--profile-out', metavar='PREFIX',
                   help='with --profile, also write each case\'s profile '
                        'to PREFIX.CASE (for pstats or snakeviz)')
    args = p.parse_args(argv)
    tmpdir = tempfile.mkdtemp(prefix='placement-profile-')
    url, drop = fresh_database(args.db, tmpdir)
    db = None
    try:
        conf_path = os.path.join(tmpdir, 'placement.conf')
        with open(conf_path, 'w') as f:
            f.write('[api]\nauth_strategy = noauth2\n[placement_database]\n'
                    'connection = %s\n' % url)
        conf = conf_mod.load(['--config-file', conf_path])
        db = app_mod.make_database(conf)
        sync.upgrade(db)
        app = app_mod.wsgi_app(conf, db)
        providers = []
        for i in range(args.providers):
            status, body = call(app, 'POST', '/resource_providers',
                                {'name': 'seed-%d' % i})
            providers.append(json.loads(body)['uuid'])
        for name, fn in cases(app, providers).items():
            if name not in args.cases:
                continue
            for i in range(20):  # warm caches and the pool
                status, body = fn(10 ** 6 + i)
                if status >= 300:
                    sys.exit('%s: %s %s' % (name, status, body[:300]))
            if args.statements:
                _print_statements(db, name, fn)
            profiler = None
            if args.profile:
                # CPU time, so waiting for the database does not count.
                profiler = cProfile.Profile(time.process_time)
            best_wall = best_cpu = best_db = None
            for _ in range(args.repeat):
                db_cpu = server_cpu(args.db)
                wall, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                for i in range(args.requests):
                    fn(i)
                if profiler:
                    profiler.disable()
                wall = (time.perf_counter() - wall) / args.requests
                cpu = (time.process_time() - cpu) / args.requests
                best_wall = min(wall, best_wall or wall)
                best_cpu = min(cpu, best_cpu or cpu)
                if db_cpu is not None:
                    db_cpu = (server_cpu(args.db) - db_cpu) / args.requests
                    best_db = min(db_cpu, best_db or db_cpu)
            print('%-12s %8.0f us wall  %8.0f us cpu%s  per request%s'
                  % (name, best_wall * 1e6, best_cpu * 1e6,
                     '' if best_db is None else
                     '  %6.0f us database cpu' % (best_db * 1e6),
                     '  (profiled)' if profiler else ''))
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(
                    'cumulative').print_stats(args.profile)
                print(out.getvalue())
                if args.profile_out:
                    profiler.dump_stats('%s.%s' % (args.profile_out, name))
    finally:
        if db is not None:
            db.dispose()
        drop()


if __name__ == '__main__':
    main()
