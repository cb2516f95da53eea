"""``[placement_database]`` options read as OpenStack Placement reads
them: ``max_retries`` and ``retry_interval`` (connecting at start-up),
``mysql_sql_mode``, ``sqlite_synchronous`` and ``connection_debug``."""

import logging
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import app as app_mod
from placement.db import direct
from placement.db import database as db_database
from placement.db import sync
from placement.objects import resource_provider as rp_obj
from tests import databases
from tests.conftest import make_conf

# Drivers for each server; nothing needs to listen for these URLs.
NOWHERE = {'postgresql': 'postgresql+psycopg2://postgres@127.0.0.1:%d/x',
           'mysql': 'mysql+pymysql://root@127.0.0.1:%d/x'}
SERVER_PORTS = {'postgresql': 5432, 'mysql': 3306}


def _closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _conf(url, **options):
    conf = make_conf(url)
    for name, value in options.items():
        conf.set_override(name, value, group='placement_database')
    return conf


def _warnings(caplog):
    return [r for r in caplog.records if r.name == db_database.__name__
            and r.levelno == logging.WARNING]


@pytest.mark.parametrize('server', sorted(NOWHERE))
def test_an_unreachable_server_is_tried_max_retries_more_times(
        server, caplog):
    conf = _conf(NOWHERE[server] % _closed_port(), max_retries=2,
                 retry_interval=0)
    with pytest.raises(sa_exc.OperationalError):
        app_mod.make_database(conf)
    warned = _warnings(caplog)
    assert len(warned) == 2
    assert 'attempt 2 of 3' in warned[-1].getMessage()


def test_no_retries_fails_at_once(caplog):
    conf = _conf(NOWHERE['postgresql'] % _closed_port(), max_retries=0)
    started = time.monotonic()
    with pytest.raises(sa_exc.OperationalError):
        app_mod.make_database(conf)
    assert not _warnings(caplog)
    assert time.monotonic() - started < 10  # not one retry_interval


def _forward(listener, target):
    """Accept connections on ``listener`` and relay each to ``target``
    (a TCP proxy that starts listening late)."""
    def pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(target)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


def test_a_server_that_comes_up_later_is_waited_for(
        backend, database_url, caplog):
    """max_retries = -1: tried until the server answers, here through a
    port that starts listening after the first attempts failed."""
    if backend == 'sqlite':
        pytest.skip('an SQLite file has no server to wait for')
    real = sa.engine.make_url(database_url)
    port = _closed_port()
    url = real.set(port=port).render_as_string(hide_password=False)
    conf = _conf(url, max_retries=-1, retry_interval=1)
    reached = []
    waiter = threading.Thread(
        target=lambda: reached.append(app_mod.make_database(conf)))
    waiter.start()
    deadline = time.monotonic() + 30
    while not _warnings(caplog) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _warnings(caplog), 'the first attempt did not fail'
    assert 'unbounded' in _warnings(caplog)[0].getMessage()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', port))
    listener.listen(8)
    target = (real.host, real.port or SERVER_PORTS[backend])
    threading.Thread(target=_forward, args=(listener, target),
                     daemon=True).start()
    try:
        waiter.join(30)
        assert reached, 'still waiting after the server came up'
        db = reached[0]
        sync.upgrade(db)
        assert db.read(lambda conn: conn.execute(
            sa.text('SELECT 1')).scalar()) == 1
        db.dispose()
    finally:
        listener.close()


def test_a_refused_connection_is_not_retried(backend, database_url, caplog):
    """The server answered, and no wait changes its answer (a missing
    database): raised at once, even with retries left."""
    if backend == 'sqlite':
        pytest.skip('an SQLite file has no server to refuse it')
    missing = sa.engine.make_url(database_url).set(
        database='placement_missing_database')
    conf = _conf(missing.render_as_string(hide_password=False),
                 max_retries=-1, retry_interval=30)
    with pytest.raises(sa_exc.OperationalError):
        app_mod.make_database(conf)
    assert not _warnings(caplog)


def _session(db, statement):
    return db.read(lambda conn: conn.execute(sa.text(statement)).scalar())


def test_mysql_sql_mode(backend, database_url):
    if backend != 'mysql':
        pytest.skip('sql_mode is a MariaDB/MySQL setting')
    db = app_mod.make_database(_conf(database_url))
    # TRADITIONAL, as the server spells it out.
    assert 'STRICT_ALL_TABLES' in _session(db, 'SELECT @@SESSION.sql_mode')
    db.dispose()
    db = app_mod.make_database(_conf(database_url,
                                     mysql_sql_mode='ANSI_QUOTES'))
    assert _session(db, 'SELECT @@SESSION.sql_mode') == 'ANSI_QUOTES'
    db.dispose()
    db = app_mod.make_database(_conf(database_url, mysql_sql_mode=''))
    assert _session(db, 'SELECT @@SESSION.sql_mode') == \
        _session(db, 'SELECT @@GLOBAL.sql_mode')
    db.dispose()


@pytest.mark.parametrize('synchronous, pragma', [(True, 2), (False, 0)])
def test_sqlite_synchronous(tmp_path, synchronous, pragma):
    url = databases.fresh_url('sqlite', tmp_path)
    db = app_mod.make_database(_conf(url, sqlite_synchronous=synchronous))
    assert _session(db, 'PRAGMA synchronous') == pragma  # FULL / OFF
    db.dispose()


def _provider_reads(db):
    sync.upgrade(db)
    sync.sync_standard(db)
    return db.read(rp_obj.find_by_uuid,
                   '8c3d1f0e-0000-4000-8000-000000000001')


@pytest.fixture
def engine_logger():
    logger = logging.getLogger('sqlalchemy.engine')
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_connection_debug_logs_every_statement(backend, database_url, caplog,
                                               engine_logger):
    caplog.set_level(logging.INFO, logger='sqlalchemy.engine')
    db = app_mod.make_database(_conf(database_url, connection_debug=50))
    _provider_reads(db)
    assert engine_logger.level == logging.INFO
    logged = ' '.join(r.getMessage() for r in caplog.records
                      if r.name.startswith('sqlalchemy.engine'))
    # The provider lookup, which otherwise goes straight to the driver.
    assert 'FROM resource_providers' in logged
    assert not db.read(direct.runs_here)
    db.dispose()


def test_no_connection_debug_logs_nothing(backend, database_url, caplog,
                                          engine_logger):
    engine_logger.setLevel(logging.WARNING)
    caplog.set_level(logging.INFO)
    db = app_mod.make_database(_conf(database_url))
    _provider_reads(db)
    assert not [r for r in caplog.records
                if r.name.startswith('sqlalchemy.engine')]
    assert db.read(direct.runs_here) == (backend != 'sqlite')
    db.dispose()
