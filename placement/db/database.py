"""The application's handle on its database (``Database``): one
function per request, run for reading or in a write transaction.

``Database.write`` runs a function in a write transaction and, when the
database reports a deadlock, a lock wait timeout, a serialization failure
or a busy SQLite file, rolls back and runs the *whole* function again;
when retries are exhausted it raises ``DatabaseContention`` (HTTP 409).
Nothing is retried half-way.  A function that finds nothing to change
returns ``Unchanged``: its transaction is rolled back.  What a write
function learnt that only holds once its transaction commits (the id of
a row it inserted, say) is handed to ``after_commit``.

Reads on PostgreSQL and MariaDB/MySQL run in autocommit mode on their
own engine: at READ COMMITTED every statement already sees its own
snapshot, so a read transaction would add a BEGIN and a COMMIT round
trip and nothing else.  (SQLite keeps read transactions: there one
transaction is one snapshot, and it costs no round trip.)  On
PostgreSQL, write transactions run on that engine too, their BEGIN and
COMMIT carried by their statements (``engine.start_write``).

A thread keeps the connection of its last unit of work for the next one.
``Database.reach`` waits for a server that cannot be reached yet at
start-up (``max_retries`` and ``retry_interval``, as OpenStack Placement
reads them).  The engines and their per-backend setup are
``placement.db.engine``'s.
"""

import contextlib
import logging
import os
import random
import threading
import time
import weakref

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import engine as db_engine

LOG = logging.getLogger(__name__)

# How many times ``Database.write`` runs a transaction again that lost a
# deadlock or a lock wait, before answering 409.
TRANSACTION_RETRIES = 10


class Unchanged:
    """What a write function returns when it found nothing to change:
    ``Database.write`` rolls the transaction back (undoing anything done
    on the way, such as a generation claimed up front) and returns
    ``value``."""

    __slots__ = ('value',)

    def __init__(self, value):
        self.value = value


class _RollBack(Exception):
    """Carries an ``Unchanged`` result out of a transaction block."""

    def __init__(self, value):
        super().__init__()
        self.value = value


def _outcome(result):
    if isinstance(result, Unchanged):
        raise _RollBack(result.value)
    return result


_AFTER_COMMIT = 'placement.after_commit'


def after_commit(conn, fn):
    """Call ``fn()`` once the write transaction running on ``conn`` has
    committed; not at all if it rolls back (or is run again)."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(fn)


def _committed(conn):
    for fn in conn.info.pop(_AFTER_COMMIT, ()):
        fn()


class _Kept(dict):
    """A thread's kept connections: {(engine, write): Connection}, and
    when each was last used.  They go back to the pool when the thread
    ends."""

    # Each one is itself (for the WeakSet of keepers).
    __hash__, __eq__ = object.__hash__, object.__eq__

    def __init__(self):
        super().__init__()
        self.used = {}

    def release(self):
        for conn in self.values():
            try:
                conn.close()
            except Exception:
                LOG.debug('closing a kept connection failed', exc_info=True)
        self.clear()

    def __del__(self):
        self.release()


class Database:
    """The application's handle on its database.

    The engine is created on first use, so a WSGI module imported before
    gunicorn forks its workers does not share connections between them.

    A thread keeps the connection of its last unit of work for the next
    one instead of checking one out of the pool each time (that and the
    Connection object cost about a sixth of a short request's CPU).  At
    most as many threads as the pool's size keep one; a kept connection
    idle for ``PING_AFTER_IDLE`` seconds is checked before reuse.
    """

    def __init__(self, url, conf=None,
                 transaction_retries=TRANSACTION_RETRIES):
        self.url = str(url)
        self._conf = conf
        self.transaction_retries = transaction_retries
        self._engine = None
        self._read_engine = None
        self._pid = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._keepers = weakref.WeakSet()

    def _engines(self):
        pid = os.getpid()
        if self._engine is None or self._pid != pid:
            with self._lock:
                if self._engine is None or self._pid != pid:
                    engine = db_engine.create_engine(self.url, self._conf)
                    if engine.dialect.name == 'sqlite':
                        self._read_engine = engine
                    else:
                        self._read_engine = db_engine.create_engine(
                            self.url, self._conf, autocommit=True)
                    self._engine = engine
                    self._pid = pid
                    self._local = threading.local()
                    self._keepers = weakref.WeakSet()
        return self._engine, self._read_engine

    def reach(self):
        """Open one connection to a PostgreSQL or MariaDB/MySQL server,
        trying again every ``retry_interval`` seconds, ``max_retries``
        more times (-1: until it works), while the server cannot be
        reached, as OpenStack Placement does at start-up.  Any other
        failure to connect (a password refused, a missing database) is
        raised at once."""
        url = sa.engine.make_url(self.url)
        if self._conf is None or url.get_backend_name() == 'sqlite':
            return
        options = self._conf.placement_database
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        attempt = 0
        try:
            while True:
                try:
                    engine.connect().close()
                    return
                except sa_exc.DBAPIError as error:
                    if not db_engine.unreachable(error) or \
                            0 <= options.max_retries <= attempt:
                        raise
                    attempt += 1
                    LOG.warning(
                        'Cannot reach the database (attempt %d of %s): %s; '
                        'trying again in %d s', attempt,
                        options.max_retries + 1 if options.max_retries >= 0
                        else 'unbounded', str(error.orig).strip(),
                        options.retry_interval)
                    time.sleep(options.retry_interval)
        finally:
            engine.dispose()

    def _kept(self, engine):
        """The calling thread's kept connections, or False when it keeps
        none (as many threads as the pool's size already do)."""
        kept = getattr(self._local, 'kept', None)
        if kept is None:
            kept = False
            size = getattr(engine.pool, 'size', None)
            with self._lock:
                if size is not None and len(self._keepers) < size():
                    kept = _Kept()
                    self._keepers.add(kept)
            self._local.kept = kept
        return kept

    @contextlib.contextmanager
    def _connect(self, engine, write=False):
        """A connection of ``engine`` for one unit of work (``write``:
        with the write transactions' execution option)."""
        kept = self._kept(engine)
        key = (engine, write)
        conn = kept.pop(key, None) if kept else None
        if conn is not None and (
                time.monotonic() - kept.used[key] > db_engine.PING_AFTER_IDLE):
            conn = self._checked(conn)
        if conn is None:
            conn = engine.connect()
            if write:
                conn.execution_options(placement_write=True)
        try:
            yield conn
        finally:
            if (kept is False or key in kept or conn.invalidated
                    or not self._tidied(conn)):
                conn.close()
            else:
                kept[key] = conn
                kept.used[key] = time.monotonic()

    @staticmethod
    def _checked(conn):
        """``conn`` if it still answers, else None (and it is dropped)."""
        try:
            conn.dialect.do_ping(conn.connection.dbapi_connection)
            return conn
        except Exception:
            conn.invalidate()
            conn.close()
            return None

    @staticmethod
    def _tidied(conn):
        try:
            db_engine.tidy(conn)
            return True
        except Exception:
            LOG.warning('dropping a connection that could not be tidied',
                        exc_info=True)
            conn.invalidate()
            return False

    @property
    def engine(self):
        """The engine of write transactions (and of schema changes)."""
        return self._engines()[0]

    @property
    def read_engine(self):
        """The engine ``read`` uses: autocommit except on SQLite."""
        return self._engines()[1]

    @property
    def backend(self):
        return self.engine.dialect.name

    def read(self, fn, *args, **kwargs):
        """Run ``fn(conn, ...)`` for reading; return its result."""
        engine, read_engine = self._engines()
        with self._connect(read_engine) as conn:
            if read_engine is not engine:
                # Autocommit: no transaction to begin or end (what
                # SQLAlchemy begins by itself is ended by the checkin).
                return fn(conn, *args, **kwargs)
            with conn.begin():
                return fn(conn, *args, **kwargs)

    def _write_once(self, fn, args, kwargs):
        try:
            return self._transaction(fn, args, kwargs)
        except _RollBack as unchanged:
            return unchanged.value

    def _transaction(self, fn, args, kwargs):
        engine, read_engine = self._engines()
        if engine.dialect.name != 'postgresql':
            with self._connect(engine, write=True) as conn:
                conn.info.pop(_AFTER_COMMIT, None)
                with conn.begin():
                    result = _outcome(fn(conn, *args, **kwargs))
                _committed(conn)
                return result
        with self._connect(read_engine) as conn:
            conn.info.pop(_AFTER_COMMIT, None)
            db_engine.start_write(conn)
            try:
                result = _outcome(fn(conn, *args, **kwargs))
            except BaseException:
                db_engine.abandon_write(conn)
                raise
            db_engine.finish_write(conn)
            _committed(conn)
            return result

    def write(self, fn, *args, **kwargs):
        """Run ``fn(conn, ...)`` in a write transaction, retrying the whole
        transaction on deadlocks and lock contention.  When ``fn`` returns
        ``Unchanged(value)`` the transaction is rolled back and ``value``
        returned."""
        attempt = 0
        while True:
            try:
                return self._write_once(fn, args, kwargs)
            except sa_exc.DBAPIError as error:
                if not db_engine.is_retryable(error):
                    raise
                attempt += 1
                if attempt > self.transaction_retries:
                    LOG.warning('giving up after %d retries: %s',
                                attempt - 1, error)
                    raise errors.DatabaseContention() from error
                time.sleep(random.uniform(0, 0.01 * attempt))

    def dispose(self):
        kept = getattr(self._local, 'kept', None)
        if kept:
            kept.release()
        for engine in {self._engine, self._read_engine} - {None}:
            engine.dispose()
        self._engine = self._read_engine = None
