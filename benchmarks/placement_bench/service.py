"""Starting a target service on a fresh database, and stopping it.

A target is a kind -- ``project`` (this project) or ``upstream``
(OpenStack Placement) -- and the virtualenv it is installed in.  Both
are started the same way: a ``placement.conf`` (noauth2, the database
URL) in a fresh directory named by ``OS_PLACEMENT_CONFIG_DIR``,
``placement-manage db sync``, then gunicorn with N sync workers bound
to a free 127.0.0.1 port.  Databases are made fresh for every start:
an SQLite file, or a database dropped and created on the local
PostgreSQL or MariaDB/MySQL server (through SQLAlchemy in the target's
own venv, so this tool needs nothing beyond the standard library).
"""

import os
import signal
import socket
import subprocess
import time

from placement_bench import client as client_mod

# kind -> WSGI application gunicorn loads from the target's venv.
KINDS = {
    'project': 'placement.wsgi:application',
    'upstream': 'placement.wsgi.api:application',
}

SERVER_URLS = {
    'postgresql': os.environ.get(
        'PLACEMENT_BENCH_POSTGRESQL_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'),
    'mysql': os.environ.get(
        'PLACEMENT_BENCH_MYSQL_URL',
        'mysql+pymysql://root@127.0.0.1:3306/mysql'),
}

# Run with the target venv's python: drop (and create) one database.
_ADMIN_SCRIPT = r'''
import sys
import sqlalchemy as sa
server, action, name = sys.argv[1:4]
engine = sa.create_engine(server, isolation_level='AUTOCOMMIT')
pg = engine.dialect.name == 'postgresql'
quoted = '"%s"' % name if pg else '`%s`' % name
with engine.connect() as conn:
    conn.exec_driver_sql('DROP DATABASE IF EXISTS %s%s'
                         % (quoted, ' WITH (FORCE)' if pg else ''))
    if action == 'create':
        conn.exec_driver_sql('CREATE DATABASE %s%s'
                             % (quoted, '' if pg else ' CHARACTER SET utf8'))
engine.dispose()
'''


class Target:
    """``KIND[=VENV][,src=DIR][,label=NAME]`` from the command line.

    ``src`` imports the service's package from DIR (put first on
    PYTHONPATH) instead of what the venv has installed, e.g. to compare
    two revisions of this project; ``label`` names the target in
    reports (default: the kind).
    """

    def __init__(self, spec):
        head, *options = spec.split(',')
        kind, _, venv = head.partition('=')
        if kind not in KINDS:
            raise ValueError('target kind must be one of %s, not %r'
                             % (', '.join(sorted(KINDS)), kind))
        extra = dict(o.partition('=')[::2] for o in options)
        unknown = set(extra) - {'src', 'label'}
        if unknown:
            raise ValueError('unknown target option(s) %s' % sorted(unknown))
        if not venv:
            venv = '.venv' if kind == 'project' else 'upstream-venv'
        self.kind = kind
        self.label = extra.get('label') or kind
        self.venv = os.path.abspath(venv)
        self.src = os.path.abspath(extra['src']) if extra.get('src') else None
        self.python = os.path.join(self.venv, 'bin', 'python')
        if not os.path.exists(self.python):
            raise ValueError('%s: no python in %s' % (kind, self.venv))

    def environ(self):
        env = dict(os.environ)
        if self.src:
            env['PYTHONPATH'] = os.pathsep.join(
                p for p in (self.src, env.get('PYTHONPATH')) if p)
        return env

    def __str__(self):
        return self.label


class FreshDatabase:
    """One empty database of ``backend`` for one service start."""

    def __init__(self, backend, rundir, python, name='placement_bench'):
        if backend not in ('sqlite', 'postgresql', 'mysql'):
            raise ValueError('unknown database backend %r' % backend)
        self.backend = backend
        self.rundir = rundir
        self.python = python
        self.name = name
        self.url = None

    def _admin(self, action):
        done = subprocess.run([self.python, '-c', _ADMIN_SCRIPT,
                               SERVER_URLS[self.backend], action, self.name],
                              timeout=120, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError('cannot %s database %s on %s:\n%s' % (
                action, self.name, self.backend,
                done.stdout.decode('utf-8', 'replace')[-2000:]))

    def create(self):
        if self.backend == 'sqlite':
            path = os.path.join(self.rundir, 'placement.sqlite')
            for suffix in ('', '-wal', '-shm'):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
            self.url = 'sqlite:///' + path
            return self.url
        self._admin('create')
        base, _, _ = SERVER_URLS[self.backend].rpartition('/')
        self.url = '%s/%s' % (base, self.name)
        if self.backend == 'mysql':
            self.url += '?charset=utf8'
        return self.url

    def drop(self):
        if self.backend != 'sqlite' and self.url:
            self._admin('drop')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Service:
    """One target served by gunicorn on one fresh database."""

    def __init__(self, target, db_url, rundir, workers=2,
                 worker_class='sync', threads=1):
        self.target = target
        self.db_url = db_url
        self.rundir = rundir
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log_path = os.path.join(rundir, 'server.log')
        self.proc = None
        self._log = None
        os.makedirs(rundir, exist_ok=True)
        self.env = dict(target.environ(),
                        OS_PLACEMENT_CONFIG_DIR=rundir,
                        OS_PLACEMENT_DATABASE__CONNECTION=db_url,
                        OS_API__AUTH_STRATEGY='noauth2')
        self.conf_path = os.path.join(rundir, 'placement.conf')

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def prepare(self):
        with open(self.conf_path, 'w') as conf:
            conf.write('[DEFAULT]\ndebug = False\n\n'
                       '[api]\nauth_strategy = noauth2\n\n'
                       '[placement_database]\nconnection = %s\n'
                       'sync_on_startup = False\n' % self.db_url)
        manage = os.path.join(self.target.venv, 'bin', 'placement-manage')
        done = subprocess.run([manage, '--config-file', self.conf_path,
                               'db', 'sync'], env=self.env, timeout=300,
                              cwd=self.rundir,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError('%s: db sync failed:\n%s' % (
                self.target, done.stdout.decode('utf-8', 'replace')[-2000:]))

    def start(self, ready_seconds=90):
        command = [self.target.python, '-m', 'gunicorn',
                   '--workers', str(self.workers),
                   '--worker-class', self.worker_class,
                   '--threads', str(self.threads),
                   '--bind', '127.0.0.1:%d' % self.port,
                   '--backlog', '2048', '--timeout', '120',
                   '--graceful-timeout', '10', '--log-level', 'warning',
                   # gunicorn puts its directory first on sys.path: use
                   # the run directory, never a source tree by accident.
                   '--chdir', self.rundir,
                   KINDS[self.target.kind]]
        self._log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(command, env=self.env, cwd=self.rundir,
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        probe = client_mod.Client(self.url, timeout=10)
        until = time.monotonic() + ready_seconds
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited (%s); see %s' % (
                    self.target, self.proc.returncode, self.log_path))
            if probe.request('GET', '/').status == 200:
                break
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError('%s not ready after %ss'
                               % (self.target, ready_seconds))
        # Sync workers take one connection each: a few rounds of requests
        # reach every worker and open its database connections.
        for _ in range(4 * self.workers):
            probe.request('GET', '/resource_providers')
        probe.close()

    def logged_tracebacks(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().count(b'Traceback (most recent call last)')
        except OSError:
            return 0

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
