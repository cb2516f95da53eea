"""Engines for SQLite, PostgreSQL and MariaDB/MySQL, each set up for
how this service runs its transactions (``placement.db.database``), and
which of their errors mean "try again" or "not reachable yet".

Per-backend setup:

- SQLite: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for write
  transactions so a writer takes the file's write lock before reading
  and never has to upgrade a read lock (which is what produces "database
  is locked" under several processes); commits wait for the disk unless
  ``[placement_database] sqlite_synchronous`` is off.
- MariaDB/MySQL: READ COMMITTED, so reads after a row lock see the latest
  committed data instead of a REPEATABLE READ snapshot; the session's
  sql_mode is ``[placement_database] mysql_sql_mode`` (TRADITIONAL).
  Connections may send several statements at once (pymysql, unless
  ``[placement_database] multi_statements`` is off), which lets a
  statement carry the transaction's COMMIT
  (``sql.execute(..., last=True)``) or a second statement
  (``sql.execute(..., then=...)``) in the same round trip.
- PostgreSQL: READ COMMITTED (its default).

With ``connection_debug`` at 50 or more, SQLAlchemy logs every statement
(100: and the rows): every statement then goes through it, and none is
prepared.

``create_engine(..., autocommit=True)`` gives the engine of reads on
PostgreSQL and MariaDB/MySQL (``Database.read``).  Pooled connections
are pinged before reuse only after they sat idle for
``PING_AFTER_IDLE`` seconds, not on every checkout.

On PostgreSQL, write transactions also run on that autocommit engine
(``start_write``, ``finish_write``, ``abandon_write``) with their
``BEGIN`` sent in the same round trip as their first statement
(psycopg2 would send it on its own) and an explicit ``COMMIT`` or
``ROLLBACK`` at the end; a connection is never given back to the pool
inside a transaction.  A statement executed as the last of its
transaction (``sql.execute(..., last=True)``) carries the ``COMMIT``
along (or, alone in its transaction, runs without one), so a write of N
statements costs N round trips.
"""

import logging
import os
import time
import weakref

import sqlalchemy as sa
from sqlalchemy import event, exc as sa_exc
from sqlalchemy.engine import interfaces as sa_interfaces

from placement.db import prepared

LOG = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs and MySQL error numbers that mean "try again".
_PG_RETRY_CODES = {'40001', '40P01', '55P03'}
_MYSQL_RETRY_CODES = {1205, 1213}
_SQLITE_RETRY_TEXT = ('database is locked', 'database is busy',
                      'database table is locked')
# A provider's link to a trait that no longer exists: writes of a
# provider's traits look the traits up without locking them, so one
# deleted meanwhile fails the link's foreign key.  Run again, the write
# finds the trait missing and says so.
_PG_FOREIGN_KEY = '23503'
_MYSQL_FOREIGN_KEY = 1452
_TRAIT_LINK_TABLE = 'resource_provider_traits'

# A pooled connection idle longer than this is checked before reuse.
PING_AFTER_IDLE = 10.0

# MySQL client errors for a server that cannot be reached (yet): cannot
# connect by socket or TCP, gone away, connection lost.
_MYSQL_UNREACHABLE = {2002, 2003, 2006, 2013}
# What a PostgreSQL server that answered says when it cannot take a
# connection yet; anything else it answers (a password refused, a
# missing database) will not change by waiting.
_PG_NOT_YET = ('starting up', 'shutting down', 'recovery mode',
               'too many clients')

# Dialect attribute: statements are logged (``connection_debug``), so
# they all go through SQLAlchemy (``direct.runs_here``).
LOGS_STATEMENTS = '_placement_logs_statements'


def _driver_error(error):
    """(the driver's exception behind SQLAlchemy's ``error``, its MySQL
    error number or None for other drivers)."""
    orig = getattr(error, 'orig', None) or error
    args = getattr(orig, 'args', ())
    return orig, args[0] if args and isinstance(args[0], int) else None


def is_retryable(error):
    """True when a DBAPI error means the transaction may succeed if run
    again from the start, or followed from one that does: MariaDB/MySQL
    end the whole transaction on a deadlock, so when its victim was
    inside a savepoint, rolling back to the savepoint fails next."""
    while error is not None:  # (Python keeps context chains acyclic)
        if isinstance(error, sa_exc.DBAPIError) and _retryable(error):
            return True
        error = error.__context__
    return False


def _retryable(error):
    orig, mysql_errno = _driver_error(error)
    pgcode = getattr(orig, 'pgcode', None)
    if pgcode is not None:
        if pgcode == _PG_FOREIGN_KEY:
            return getattr(orig.diag, 'table_name', None) == \
                _TRAIT_LINK_TABLE
        return pgcode in _PG_RETRY_CODES
    if mysql_errno is not None:
        if mysql_errno == _MYSQL_FOREIGN_KEY:
            return '`%s`' % _TRAIT_LINK_TABLE in str(orig) and \
                'REFERENCES `traits`' in str(orig)
        return mysql_errno in _MYSQL_RETRY_CODES
    text = str(orig).lower()
    return any(t in text for t in _SQLITE_RETRY_TEXT)


def unreachable(error):
    """True when connecting failed because the server could not be
    reached, which waiting may mend."""
    orig, mysql_errno = _driver_error(error)
    if mysql_errno is not None:
        return mysql_errno in _MYSQL_UNREACHABLE
    text = str(orig)
    if 'FATAL' in text:
        return any(t in text for t in _PG_NOT_YET)
    return True


def _log_statements(engine, level):
    """``connection_debug``: SQLAlchemy's engine logger at INFO (50 and
    above: statements) or DEBUG (100: and rows), as oslo.db sets it."""
    if level < 50:
        return
    logging.getLogger('sqlalchemy.engine').setLevel(
        logging.DEBUG if level >= 100 else logging.INFO)
    setattr(engine.dialect, LOGS_STATEMENTS, True)


def _sqlite_setup(engine, synchronous):
    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's begin event decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute('PRAGMA busy_timeout = 30000')
        cur.execute('PRAGMA journal_mode = WAL')
        cur.execute('PRAGMA synchronous = %s'
                    % ('FULL' if synchronous else 'OFF'))
        cur.close()

    @event.listens_for(engine, 'begin')
    def _on_begin(conn):
        if conn.get_execution_options().get('placement_write'):
            conn.exec_driver_sql('BEGIN IMMEDIATE')
        else:
            conn.exec_driver_sql('BEGIN')


def _mysql_setup(engine, together, sql_mode):
    """MariaDB/MySQL: session settings (``sql_mode`` unless empty),
    COMMIT and ROLLBACK skipped when no transaction can be open, and with
    ``together`` (and a driver that can) several statements per round
    trip (``sql.sends_together``)."""
    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # Lists of ids read with GROUP_CONCAT are never cut short.
        cur.execute('SET SESSION group_concat_max_len = 16777216')
        if sql_mode:
            cur.execute('SET SESSION sql_mode = %s', (sql_mode,))
        cur.close()

    _reset_with(engine, _mysql_reset)
    _mysql_failed_statements(engine)

    # A COMMIT or ROLLBACK the server would ignore (no transaction open:
    # every read, and a write whose last statement carried its COMMIT)
    # is not sent.
    dialect = engine.dialect
    dialect.do_commit = _unless_over(dialect.do_commit)
    dialect.do_rollback = _unless_over(dialect.do_rollback)

    if not together or dialect.driver not in MULTI_STATEMENT_DRIVERS:
        _shape_with(engine, _mysql_shape_alone)
        return
    setattr(dialect, SENDS_TOGETHER, True)

    @event.listens_for(engine, 'do_connect')
    def _multi_statements(_dialect, _record, _cargs, cparams):
        cparams['client_flag'] = cparams.get('client_flag', 0) | \
            _MULTI_STATEMENTS

    _shape_with(engine, _mysql_shape)

    @event.listens_for(engine, 'after_cursor_execute')
    def _after(_conn, cursor, _statement, _parameters, _context, _many):
        _read_later_answers(cursor.connection)


def _read_later_answers(dbapi_conn):
    """Read the answers to the statements a query sent after its first
    (``_mysql_shape``), leaving the cursor's own (the first) as it is, so
    that an error in one raises now.  PyMySQL's cursor reads them only
    when it is closed, and SQLAlchemy ignores errors there: the write
    would seem done, its COMMIT not run and its locks kept.  (``direct``
    reads every answer itself, and closes its cursor, which then has no
    connection, before it runs this event's listeners.)"""
    result = getattr(dbapi_conn, '_result', None)
    while result is not None and result.has_next:
        dbapi_conn.next_result()
        result = dbapi_conn._result


def _mysql_failed_statements(engine):
    """A statement SQLAlchemy sent that failed (``statement_failed``)."""
    @event.listens_for(engine, 'handle_error')
    def _failed(context):
        conn = context.connection
        if conn is not None and not conn.invalidated:
            statement_failed(conn)


def statement_failed(conn):
    """Say that a statement just sent on ``conn`` failed.  On
    MariaDB/MySQL a COMMIT sent after it (LAST) then did not run either,
    and the locks its transaction took are still held: the transaction
    may be open, so it is rolled back before the connection is used
    again or pooled."""
    if conn.dialect.name in ('mysql', 'mariadb'):
        setattr(conn.connection.dbapi_connection, _MAY_BE_OPEN, True)


def _mysql_shape_alone(conn, cursor, statement, parameters, options, binds,
                       executemany):
    """A MariaDB/MySQL statement sent alone: after it a transaction may
    be open (until a COMMIT or ROLLBACK goes out)."""
    setattr(cursor.connection, _MAY_BE_OPEN, True)
    return statement, parameters


def _mysql_shape(conn, cursor, statement, parameters, options, binds,
                 executemany):
    """A MariaDB/MySQL statement with what ``sql.execute`` asked to send
    along: a second statement (THEN), the COMMIT (LAST)."""
    together = not executemany and isinstance(parameters, dict)
    # Whether a transaction may be open once this statement has run
    # (should it fail, ``statement_failed`` says it may be).
    setattr(cursor.connection, _MAY_BE_OPEN,
            not (together and options.get(LAST)))
    if not together:
        return statement, parameters
    then = options.get(THEN)
    if then is not None:
        then_statement, then_parameters = then
        statement = statement + '; ' + then_statement
        parameters = dict(parameters, **then_parameters)
    if options.get(LAST):
        statement = statement + '; COMMIT'
    return statement, parameters


# MySQL drivers whose connections send several statements in one query
# (``_read_later_answers`` knows how PyMySQL reads their answers).
MULTI_STATEMENT_DRIVERS = ('pymysql',)
# Attribute of a MariaDB/MySQL engine's dialect: True when its
# connections send several statements in one query.
SENDS_TOGETHER = 'placement_sends_together'
# MySQL server status flags (the protocol's OK packets carry them) and
# the client capability of several statements per query.
_IN_TRANS, _AUTOCOMMIT = 0x1, 0x2
_MULTI_STATEMENTS = 1 << 16


def ended_transaction(conn):
    """Say that the MariaDB/MySQL statements just run on ``conn`` ended
    its transaction (a claim that failed, ``claim.claim``): no COMMIT or
    ROLLBACK is to be sent for it."""
    setattr(conn.connection.dbapi_connection, _MAY_BE_OPEN, False)


def nothing_done_yet(conn):
    """True when no statement has run yet in ``conn``'s write transaction
    (PostgreSQL, MariaDB/MySQL), so that ending it early cannot end work
    of its own (and, on PostgreSQL, a statement sent as the last is sent
    alone and answers its rows)."""
    if conn.dialect.name == 'postgresql':
        return conn.info.get(_TX) == _PENDING
    return _over(conn.connection.dbapi_connection)


def _mysql_reset(dbapi_conn, _info):
    """The pool's rollback-on-return costs a round trip on MySQL even
    after a COMMIT; roll back only when a transaction may be open."""
    _rollback_unless_over(dbapi_conn)


# Attribute of a MariaDB/MySQL DBAPI connection: False once its
# transaction is known to be over (a COMMIT or ROLLBACK went out, alone
# or after a transaction's last statement), True once another statement
# went out.  Unset: unknown (a transaction may be open).
_MAY_BE_OPEN = 'placement_transaction_open'


def _over(dbapi_conn):
    """True when no transaction can be open on ``dbapi_conn``: the
    server's last reply showed none (SERVER_STATUS_IN_TRANS clear) and
    either the session is in autocommit or the last statement ended the
    transaction.  (A transaction that has only read leaves IN_TRANS clear
    on MariaDB, yet holds its read view and metadata locks.)"""
    status = getattr(dbapi_conn, 'server_status', None)
    if status is None or status & _IN_TRANS:
        return False
    return bool(status & _AUTOCOMMIT) or not getattr(
        dbapi_conn, _MAY_BE_OPEN, True)


def _unless_over(end_transaction):
    """``end_transaction`` (a dialect's do_commit or do_rollback), not
    sent when ``_over``."""
    def run(dbapi_conn):
        if _over(dbapi_conn):
            return
        end_transaction(dbapi_conn)
        # (SQLAlchemy's first-connect check passes a proxy here.)
        setattr(getattr(dbapi_conn, 'dbapi_connection', dbapi_conn),
                _MAY_BE_OPEN, False)
    return run


_rollback_unless_over = _unless_over(lambda dbapi_conn: dbapi_conn.rollback())


# engine -> its function (DBAPI connection, connection info) that makes a
# connection ready for its next user: at checkin (the pool's reset
# event) and when a thread keeps it (``Database``).
_RESETS = weakref.WeakKeyDictionary()


def _reset_with(engine, reset):
    _RESETS[engine] = reset

    @event.listens_for(engine, 'reset')
    def _on_reset(dbapi_conn, record, _state):
        reset(dbapi_conn, record.info)


def _ping_when_idle(engine):
    @event.listens_for(engine, 'checkin')
    def _on_checkin(_dbapi_conn, record):
        record.info['idle_since'] = time.monotonic()

    @event.listens_for(engine, 'checkout')
    def _on_checkout(dbapi_conn, record, _proxy):
        since = record.info.get('idle_since')
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            # The pool drops this connection and checks out another.
            raise sa_exc.DisconnectionError(str(error)) from error


# conn.info key: the state of a PostgreSQL write transaction: its BEGIN
# still to be sent (with the next statement), sent, sent with a last
# statement and COMMIT, or committed that way.
_TX = 'placement_piggyback_tx'
_PENDING, _OPEN = 'pending', 'open'
_COMMITTING, _COMMITTED = 'committing', 'committed'
_BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED'
_INSERTMANYVALUES = sa_interfaces.ExecuteStyle.INSERTMANYVALUES
# Execution option of a transaction's last statement (``sql.execute``).
LAST = 'placement_last_statement'
# Execution option on MariaDB/MySQL: (statement, parameters) to send in
# the same round trip, after the statement (``sql.execute``).
THEN = 'placement_then'
# Execution option of a PostgreSQL read: the text of a statement to send
# before it, in the same round trip (it takes the read's parameters).
FIRST = 'placement_first'
# conn.info keys on PostgreSQL: statements sent since BEGIN; the
# statement just run took no lock and changed nothing (``holds_nothing``);
# the connection's open transaction is to be rolled back with its next
# statement.
_STATEMENTS = 'placement_statements'
_HOLDS_NOTHING = 'placement_holds_nothing'
_ROLLBACK_LATER = 'placement_rollback_later'


def holds_nothing(conn):
    """Say that the statement just run (a failed claim) took no lock and
    changed nothing.  When it was the only statement of a PostgreSQL
    write transaction that now fails, the ROLLBACK is not sent on its
    own: it travels with the connection's next statement."""
    if conn.info.get(_TX) == _OPEN:
        conn.info[_HOLDS_NOTHING] = True


def _one_insert_statement(conn, context):
    return (context is not None
            and context.execute_style is _INSERTMANYVALUES
            and len(context.compiled_parameters)
            <= conn.dialect.insertmanyvalues_page_size)


# engine -> its function (conn, cursor, statement, parameters, options,
# binds, executemany) -> (statement, parameters): how a statement is
# sent on it.  SQLAlchemy executions reach it through the
# before_cursor_execute event, ``direct.run`` calls it itself.
_SHAPES = weakref.WeakKeyDictionary()


def shape_of(engine):
    """``engine``'s statement-shaping function, or None."""
    return _SHAPES.get(engine)


def _shape_with(engine, shape):
    _SHAPES[engine] = shape

    @event.listens_for(engine, 'before_cursor_execute', retval=True)
    def _before(conn, cursor, statement, parameters, context, executemany):
        options, binds = {}, None
        if context is not None:
            options = context.execution_options
            binds = getattr(context.compiled, 'binds', None)
            # A multi-row INSERT that SQLAlchemy sends as one statement.
            if executemany and _one_insert_statement(conn, context):
                executemany = False
        return shape(conn, cursor, statement, parameters, options, binds,
                     executemany)


def _postgresql_shape(prepare):
    def shape(conn, cursor, statement, parameters, options, binds,
              executemany):
        """BEGIN with a write's first statement, COMMIT with its last
        (LAST), a read's FIRST statement, a pending ROLLBACK first, and
        the prepared form."""
        info = conn.info
        state = info.get(_TX)
        if info.pop(_ROLLBACK_LATER, False):
            if executemany:
                cursor.execute('ROLLBACK')
            else:
                statement, parameters = shape(
                    conn, cursor, statement, parameters, options, binds,
                    executemany)
                return 'ROLLBACK; ' + statement, parameters
        writing = state in (_PENDING, _OPEN)
        if writing:
            info[_STATEMENTS] = info.get(_STATEMENTS, 0) + 1
        if prepare and not executemany and (
                writing or options.get(prepared.PREPARE)):
            statement = prepared.rewrite(cursor, statement, parameters,
                                         binds, state == _OPEN)
        if not writing:
            first = options.get(FIRST)
            if first is not None and not executemany:
                statement = first + '; ' + statement
            return statement, parameters
        if not executemany and options.get(LAST):
            # A lone statement needs no transaction at all.
            if state == _OPEN:
                statement = statement + '; COMMIT'
            info[_TX] = _COMMITTING
        elif state == _PENDING:
            info[_TX] = _OPEN
            if executemany:
                cursor.execute(_BEGIN)
            else:
                statement = _BEGIN + '; ' + statement
        return statement, parameters
    return shape


def _postgresql_setup(engine, prepare):
    _shape_with(engine, _postgresql_shape(prepare))

    # (``direct.run`` calls after_cursor_execute listeners too.)
    @event.listens_for(engine, 'after_cursor_execute')
    def _committed(conn, _cursor, _statement, _parameters, _context,
                   _executemany):
        if conn.info.get(_TX) == _COMMITTING:
            conn.info[_TX] = _COMMITTED

    _reset_with(engine, _postgresql_reset)


def _postgresql_reset(dbapi_conn, info):
    """Never pool a connection inside a transaction (status 0: idle),
    unless it is one that holds nothing and the next statement will end
    (``holds_nothing``)."""
    info.pop(_TX, None)
    info.pop(_STATEMENTS, None)
    if info.get(_ROLLBACK_LATER):
        return
    if dbapi_conn.get_transaction_status() != 0:
        with dbapi_conn.cursor() as cursor:
            cursor.execute('ROLLBACK')


def start_write(conn):
    """Begin a PostgreSQL write transaction on ``conn`` (of the autocommit
    engine): its BEGIN goes out with its first statement."""
    info = conn.info
    info[_TX] = _PENDING
    info[_STATEMENTS] = 0
    info.pop(_HOLDS_NOTHING, None)


def finish_write(conn):
    """End the write transaction ``start_write`` began, once its work
    succeeded: COMMIT, unless its last statement carried it."""
    if conn.info.pop(_TX, None) == _OPEN:
        conn.exec_driver_sql('COMMIT')


def abandon_write(conn):
    """End the write transaction ``start_write`` began, once its work
    failed: ROLLBACK now, or with the connection's next statement when
    its only statement took no lock and changed nothing
    (``holds_nothing``)."""
    info = conn.info
    state = info.pop(_TX, None)
    if state == _OPEN and info.pop(_HOLDS_NOTHING, False) \
            and info.get(_STATEMENTS) == 1:
        info[_ROLLBACK_LATER] = True
    elif state in (_OPEN, _COMMITTING):
        try:
            conn.exec_driver_sql('ROLLBACK')
        except Exception:
            LOG.exception('ROLLBACK failed; dropping the connection')
            conn.invalidate()


def tidy(conn):
    """Make a connection a thread keeps ready for its next unit of work,
    as the pool's checkin would."""
    if conn.in_transaction():
        conn.rollback()
    reset = _RESETS.get(conn.engine)
    if reset is not None:
        reset(conn.connection.dbapi_connection, conn.info)


def create_engine(url, conf=None, autocommit=False):
    """An engine for ``url`` with the per-backend setup described above;
    ``autocommit`` (not for SQLite) gives an engine for reads."""
    url = sa.engine.make_url(url)
    kwargs = {}
    backend = url.get_backend_name()
    if backend == 'sqlite':
        if url.database and url.database != ':memory:':
            directory = os.path.dirname(os.path.abspath(url.database))
            os.makedirs(directory, exist_ok=True)
    else:
        if conf is not None:
            db = conf.placement_database
            kwargs.update(pool_size=db.max_pool_size,
                          max_overflow=db.max_overflow,
                          pool_timeout=db.pool_timeout,
                          pool_recycle=db.connection_recycle_time)
        kwargs['isolation_level'] = ('AUTOCOMMIT' if autocommit
                                     else 'READ COMMITTED')
        if backend == 'mysql':
            kwargs['pool_reset_on_return'] = None
            if 'charset' not in url.query:
                url = url.update_query_dict({'charset': 'utf8mb4'})
    engine = sa.create_engine(url, **kwargs)
    db = conf.placement_database if conf is not None else None
    if backend == 'sqlite':
        _sqlite_setup(engine, synchronous=(
            db is None or db.sqlite_synchronous))
    else:
        _ping_when_idle(engine)
        if backend == 'mysql':
            _mysql_setup(
                engine, together=db is None or db.multi_statements,
                sql_mode='TRADITIONAL' if db is None else db.mysql_sql_mode)
        elif backend == 'postgresql' and autocommit:
            # Logged statements are shown as written, not as EXECUTE.
            _postgresql_setup(engine, prepare=db is None or (
                db.prepared_statements and db.connection_debug < 50))
    if db is not None:
        _log_statements(engine, db.connection_debug)
    return engine
