"""placement/db/engine.py and database.py on every backend: which real
database errors are classified as retryable, and how ``Database.write``
retries the whole transaction.

The retryable errors are provoked for real with two connections: a lock
wait that times out, a deadlock (PostgreSQL, MariaDB), a serialization
failure (PostgreSQL) and a busy file (SQLite).
"""

import threading
import uuid as uuidlib

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import database as db_database
from placement.db import engine as db_engine
from placement.db import sql
from placement.db import tables
from placement.objects import claim
from placement.objects import resource_provider as rp

RP = tables.resource_providers


def new_uuid():
    return str(uuidlib.uuid4())


@pytest.fixture
def two_providers(database):
    return [database.write(rp.create, new_uuid(), name).id
            for name in ('one', 'two')]


def bump(conn, provider_id):
    conn.execute(sa.update(RP).where(RP.c.id == provider_id)
                 .values(generation=RP.c.generation + 1))


def write_connection(database):
    conn = database.engine.connect()
    conn.execution_options(placement_write=True)
    return conn


def lock_wait_timeout(database, provider_id):
    """The error of a writer that gave up waiting for a row lock (or, on
    SQLite, for the file's write lock)."""
    backend = database.backend
    holder = write_connection(database)
    holder.begin()
    bump(holder, provider_id)
    try:
        if backend == 'sqlite':
            # A second engine whose connections give up at once.
            impatient = sa.create_engine(database.url)

            @sa.event.listens_for(impatient, 'connect')
            def _no_wait(dbapi_conn, _record):
                dbapi_conn.isolation_level = None
                dbapi_conn.execute('PRAGMA busy_timeout = 0')

            try:
                with impatient.connect() as conn:
                    with pytest.raises(sa_exc.DBAPIError) as caught:
                        conn.exec_driver_sql('BEGIN IMMEDIATE')
            finally:
                impatient.dispose()
            return caught.value
        with database.engine.connect() as conn:
            with conn.begin():
                if backend == 'postgresql':
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                else:
                    conn.exec_driver_sql(
                        'SET SESSION innodb_lock_wait_timeout = 1')
                with pytest.raises(sa_exc.DBAPIError) as caught:
                    bump(conn, provider_id)
            if backend == 'mysql':
                conn.exec_driver_sql(
                    'SET SESSION innodb_lock_wait_timeout = DEFAULT')
        return caught.value
    finally:
        holder.rollback()
        holder.close()


def deadlock(database, first_id, second_id):
    """The error of the victim of a real deadlock: two transactions each
    hold one row lock and ask for the other's."""
    a, b = write_connection(database), write_connection(database)
    a.begin()
    b.begin()
    failures = []
    try:
        bump(a, first_id)
        bump(b, second_id)

        def a_wants_second():
            try:
                bump(a, second_id)
            except sa_exc.DBAPIError as exc:
                failures.append(exc)
                a.rollback()

        thread = threading.Thread(target=a_wants_second)
        thread.start()
        # Let ``a`` start waiting for the lock ``b`` holds.
        thread.join(timeout=0.5)
        try:
            bump(b, first_id)
        except sa_exc.DBAPIError as exc:
            failures.append(exc)
            b.rollback()
        else:
            b.commit()
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        for conn in (a, b):
            if conn.in_transaction():
                conn.rollback()
            conn.close()
    assert len(failures) == 1, failures
    return failures[0]


def serialization_failure(database, provider_id):
    """PostgreSQL: a REPEATABLE READ transaction updating a row that
    changed after its snapshot was taken."""
    with database.engine.connect().execution_options(
            isolation_level='REPEATABLE READ') as old:
        with old.begin():
            old.execute(sa.select(RP.c.generation)).all()
            database.write(bump, provider_id)
            with pytest.raises(sa_exc.DBAPIError) as caught:
                bump(old, provider_id)
    return caught.value


def test_lock_wait_timeout_is_retryable(database, two_providers):
    error = lock_wait_timeout(database, two_providers[0])
    assert db_engine.is_retryable(error), error
    if database.backend == 'mysql':
        assert error.orig.args[0] == 1205
    elif database.backend == 'postgresql':
        assert error.orig.pgcode == '55P03'
    else:
        assert 'database is locked' in str(error.orig)


def test_deadlock_is_retryable(database, two_providers):
    if database.backend == 'sqlite':
        pytest.skip('SQLite has one write lock per file: no row deadlocks')
    error = deadlock(database, *two_providers)
    assert db_engine.is_retryable(error), error
    if database.backend == 'mysql':
        assert error.orig.args[0] == 1213
    else:
        assert error.orig.pgcode == '40P01'


def test_serialization_failure_is_retryable(database, two_providers):
    if database.backend != 'postgresql':
        pytest.skip('a PostgreSQL SQLSTATE')
    error = serialization_failure(database, two_providers[0])
    assert error.orig.pgcode == '40001'
    assert db_engine.is_retryable(error)


def test_integrity_error_is_not_retryable(database, two_providers):
    def duplicate(conn):
        conn.execute(sa.insert(tables.traits).values(name='CUSTOM_TWICE'))
        conn.execute(sa.insert(tables.traits).values(name='CUSTOM_TWICE'))

    calls = []
    with pytest.raises(sa_exc.IntegrityError) as caught:
        database.write(lambda conn: (calls.append(1), duplicate(conn)))
    assert not db_engine.is_retryable(caught.value)
    assert calls == [1]


def test_syntax_error_is_not_retryable(database):
    with pytest.raises(sa_exc.DBAPIError) as caught:
        database.read(lambda conn: conn.exec_driver_sql('SELEC 1'))
    assert not db_engine.is_retryable(caught.value)


def test_write_retries_the_whole_function(database, two_providers):
    """A write that hits a real lock timeout twice runs again from the
    start and commits once, with no effect left by the failed tries."""
    captured = lock_wait_timeout(database, two_providers[0])
    calls = []

    def flaky(conn):
        calls.append(1)
        bump(conn, two_providers[1])
        if len(calls) <= 2:
            raise captured
        return 'done'

    assert database.write(flaky) == 'done'
    assert len(calls) == 3
    generation = database.read(lambda conn: conn.execute(
        sa.select(RP.c.generation).where(RP.c.id == two_providers[1])
    ).scalar_one())
    assert generation == 1


def test_write_gives_up_with_409(database, two_providers):
    captured = lock_wait_timeout(database, two_providers[0])
    calls = []
    database.transaction_retries = 3

    def always(conn):
        calls.append(1)
        bump(conn, two_providers[1])
        raise captured

    with pytest.raises(errors.DatabaseContention):
        database.write(always)
    assert len(calls) == 4
    assert issubclass(errors.DatabaseContention,
                      errors.ConcurrentUpdateDetected)
    generation = database.read(lambda conn: conn.execute(
        sa.select(RP.c.generation).where(RP.c.id == two_providers[1])
    ).scalar_one())
    assert generation == 0


def test_reads_do_not_retry(database, two_providers):
    captured = lock_wait_timeout(database, two_providers[0])
    calls = []

    def failing(conn):
        calls.append(1)
        raise captured

    with pytest.raises(sa_exc.DBAPIError):
        database.read(failing)
    assert calls == [1]


@pytest.mark.parametrize('read', ['provider', 'traits'])
def test_waiting_read_chosen_to_end_a_deadlock_reads_without_waiting(
        database, two_providers, monkeypatch, read):
    """A read that waits for writers (GET of a provider, its traits or
    aggregates) answers what is committed when the database ends it to
    break a deadlock, rather than failing."""
    if database.backend == 'sqlite':
        pytest.skip('SQLite reads do not wait')
    error = deadlock(database, *two_providers)
    uuid, generation = database.read(lambda conn: conn.execute(
        sa.select(RP.c.uuid, RP.c.generation)
        .where(RP.c.id == two_providers[0])).one())
    sent = []
    real_execute = sql.execute

    def execute(conn, statement, params=None, **kwargs):
        sent.append(statement)
        if len(sent) == 1:
            raise error
        return real_execute(conn, statement, params, **kwargs)

    monkeypatch.setattr(rp.sql, 'execute', execute)
    if read == 'provider':
        provider = database.read(rp.get_by_uuid, uuid, waiting=True)
        assert sent[1] is rp._BY_UUID
    else:
        provider, names = database.read(rp.get_with_traits, uuid)
        assert names == [] and sent[1] is rp._LINKED['traits']
    assert sent[0] is not sent[1]
    assert provider.generation == generation


def test_waiting_read_other_errors_are_raised(database, monkeypatch):
    def execute(conn, statement, params=None, **kwargs):
        raise sa_exc.DBAPIError('SELECT', {}, Exception('broken'))

    monkeypatch.setattr(rp.sql, 'execute', execute)
    with pytest.raises(sa_exc.DBAPIError):
        database.read(rp.get_by_uuid, new_uuid(), waiting=True)


def test_write_transaction_settings(database):
    """Write transactions run at READ COMMITTED on the servers (with a
    strict SQL mode on MariaDB/MySQL); SQLite runs in WAL mode."""
    def settings(conn):
        if database.backend == 'postgresql':
            return conn.exec_driver_sql(
                'SHOW transaction_isolation').scalar_one()
        if database.backend == 'mysql':
            # MariaDB names the variable tx_isolation, MySQL 8
            # transaction_isolation.
            isolation = conn.exec_driver_sql(
                "SHOW SESSION VARIABLES WHERE Variable_name IN "
                "('tx_isolation', 'transaction_isolation')").first()[1]
            return isolation, conn.exec_driver_sql(
                'SELECT @@SESSION.sql_mode').scalar_one()
        return conn.exec_driver_sql('PRAGMA journal_mode').scalar_one()

    found = database.write(settings)
    if database.backend == 'postgresql':
        assert found == 'read committed'
    elif database.backend == 'mysql':
        assert found[0] == 'READ-COMMITTED'
        assert 'STRICT_ALL_TABLES' in found[1]
    else:
        assert found == 'wal'


# -- the last statement of a transaction (sql.execute(last=True)) --------

def names(database):
    return database.read(lambda conn: sorted(
        conn.execute(sa.select(RP.c.name)).scalars()))


def rename(conn, provider_id, name, last=False):
    return sql.execute(conn, sa.update(RP).where(RP.c.id == provider_id)
                       .values(name=name), last=last)


def test_last_statement_commits_the_whole_transaction(database,
                                                      two_providers):
    def write(conn):
        rename(conn, two_providers[0], 'first')
        rename(conn, two_providers[1], 'second', last=True)
        return 'done'

    assert database.write(write) == 'done'
    assert names(database) == ['first', 'second']


@pytest.mark.parametrize('last', [True, False])
def test_failing_statement_rolls_everything_back(database, two_providers,
                                                 last):
    def write(conn):
        rename(conn, two_providers[0], 'first')
        # Takes the name 'two' already has: a unique violation.
        rename(conn, two_providers[0], 'two', last=last)

    with pytest.raises(sa_exc.IntegrityError):
        database.write(write)
    assert names(database) == ['one', 'two']
    # The connection (back in the pool, or kept by this thread) is
    # clean: the next write works.
    database.write(rename, two_providers[0], 'again', last=True)
    assert names(database) == ['again', 'two']


def test_lone_last_statement_returns_its_rows(database, two_providers):
    def write(conn):
        return sql.execute(
            conn, sa.select(RP.c.name).where(RP.c.id == two_providers[1]),
            last=True).all()

    assert database.write(write) == [('two',)]
    assert database.write(rename, two_providers[0], 'alone', last=True)
    assert names(database) == ['alone', 'two']


def test_unchanged_rolls_back_and_returns_the_value(database, two_providers):
    def write(conn):
        rename(conn, two_providers[0], 'first')
        return db_database.Unchanged('nothing to do')

    assert database.write(write) == 'nothing to do'
    assert names(database) == ['one', 'two']


def test_after_commit_runs_only_once_committed(database, two_providers):
    ran = []

    def write(conn, name, outcome):
        rename(conn, two_providers[0], name)
        db_database.after_commit(conn, lambda: ran.append(name))
        if outcome == 'fail':
            raise ValueError(name)
        return db_database.Unchanged(None) if outcome == 'unchanged' else 1

    database.write(write, 'kept', 'commit')
    assert database.write(write, 'undone', 'unchanged') is None
    with pytest.raises(ValueError):
        database.write(write, 'failed', 'fail')
    # What a rolled-back transaction handed over is not carried into the
    # next one on the same connection.
    database.write(write, 'last', 'commit')
    assert ran == ['kept', 'last']
    assert names(database) == ['last', 'two']


def record_transaction_ends(monkeypatch, sent):
    """Append 'commit' or 'rollback' to ``sent`` for each COMMIT or
    ROLLBACK pymysql sends of its own (not inside a query's text)."""
    import pymysql.connections
    for method in ('commit', 'rollback'):
        original = getattr(pymysql.connections.Connection, method)

        def record(self, _original=original, _method=method):
            sent.append(_method)
            return _original(self)
        monkeypatch.setattr(pymysql.connections.Connection, method, record)


def test_reads_send_no_commit_on_mysql(database, two_providers, monkeypatch):
    """On MariaDB/MySQL a read runs in autocommit and sends no COMMIT or
    ROLLBACK (each would be a round trip the server ignores); a write
    still commits."""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    sent = []
    record_transaction_ends(monkeypatch, sent)
    assert names(database) == ['one', 'two']
    assert sent == []
    database.write(rename, two_providers[0], 'first')
    assert sent == ['commit']
    assert names(database) == ['first', 'two']


# -- several statements in one round trip (MariaDB/MySQL) ----------------

def count_queries(monkeypatch):
    """A list that grows by one for each query pymysql sends (by its
    cursor or ``pymysql_reader``), but for its own COMMIT and ROLLBACK
    (the connection's ``commit()`` and ``rollback()``)."""
    import pymysql.connections
    from pymysql.constants import COMMAND
    sent = []
    original = pymysql.connections.Connection._execute_command

    def execute_command(self, command, sql):
        if command == COMMAND.COM_QUERY and sql not in ('COMMIT',
                                                        'ROLLBACK'):
            sent.append(sql)
        return original(self, command, sql)
    monkeypatch.setattr(pymysql.connections.Connection, '_execute_command',
                        execute_command)
    return sent


def test_then_sends_both_statements_at_once(database, two_providers,
                                            monkeypatch):
    first, second = two_providers
    renamed = (sa.update(RP).where(RP.c.id == sa.bindparam('then_id'))
               .values(name=sa.bindparam('then_name'), updated_at=sa.null()))

    def write(conn):
        row = sql.execute(
            conn, sa.select(RP.c.name).where(RP.c.id == first),
            then=(renamed, {'then_id': second, 'then_name': 'renamed'}),
        ).first()
        rename(conn, first, 'first', last=True)
        return row

    if database.backend != 'mysql':
        with pytest.raises(ValueError):
            database.write(write)
        return
    sent = count_queries(monkeypatch)
    assert database.write(write) == ('one',)
    # The read with the rename, then the last rename with the COMMIT.
    assert len(sent) == 2
    assert names(database) == ['first', 'renamed']


def test_error_of_a_statement_sent_after_another_raises(
        database, two_providers):
    """MariaDB/MySQL: when a statement sent after another in the same
    round trip fails (a rename to a taken name), the execution raises,
    the COMMIT sent after it does not run, and the write's transaction is
    rolled back: nothing is written and nothing stays locked.  The read
    sent first is built once: SQLAlchemy sends it the first time,
    ``direct`` the second."""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    first, second = two_providers
    read = sa.select(RP.c.name).where(RP.c.id == sa.bindparam('id_'))
    renamed = (sa.update(RP).where(RP.c.id == sa.bindparam('then_id'))
               .values(name=sa.bindparam('then_name'), updated_at=sa.null()))

    def write(conn):
        return sql.execute(conn, read, {'id_': first}, then=(
            renamed, {'then_id': second, 'then_name': 'one'}),
            last=True).first()

    server = sa.create_engine(database.url)
    for _ in range(2):
        with pytest.raises(sa_exc.IntegrityError, match='Duplicate entry'):
            database.write(write)
        assert names(database) == ['one', 'two']
        with server.connect() as other:
            # Raises when the failed write still holds the row.
            other.exec_driver_sql(
                'SELECT name FROM resource_providers WHERE id = %s '
                'FOR UPDATE NOWAIT' % second).all()
            other.rollback()
    server.dispose()


def test_last_statement_keeps_its_rowcount(database, two_providers):
    def write(conn):
        rename(conn, two_providers[0], 'first')
        return rename(conn, two_providers[1], 'second', last=True).rowcount

    if database.backend == 'postgresql':
        pytest.skip("PostgreSQL's last statement travels with the COMMIT")
    assert database.write(write) == 1
    assert names(database) == ['first', 'second']


def test_claim_is_one_round_trip_on_mysql(database, two_providers,
                                          monkeypatch):
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    uuid = database.read(lambda conn: conn.execute(
        sa.select(RP.c.uuid).where(RP.c.id == two_providers[0])).scalar_one())
    sent = count_queries(monkeypatch)
    claimed = database.write(lambda conn: claim.claim(conn, uuid, 0))
    assert claimed.generation == 1
    assert len(sent) == 1
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: claim.claim(conn, uuid, 0))
    assert database.read(rp.get_by_uuid, uuid).generation == 1


# -- a failed claim's ROLLBACK travels with the next statement (PostgreSQL)

def bump_without_waiting(database, provider_id):
    """Bump the provider from another session, failing (a lock timeout of
    one second) rather than waiting if something still locks the row."""
    other = database.engine.connect()
    try:
        other.exec_driver_sql(
            "SET lock_timeout = '1s'" if database.backend == 'postgresql'
            else 'SET SESSION innodb_lock_wait_timeout = 1')
        bump(other, provider_id)
        other.commit()
    finally:
        other.close()


def provider_uuid(database, provider_id):
    return database.read(lambda conn: conn.execute(
        sa.select(RP.c.uuid).where(RP.c.id == provider_id)).scalar_one())


def test_failed_claim_holds_nothing_and_rolls_back_later(database,
                                                         two_providers):
    if database.backend != 'postgresql':
        pytest.skip('PostgreSQL only')
    uuid = provider_uuid(database, two_providers[0])
    sent = []

    def record(conn, cursor, statement, *_args):
        sent.append(statement)
    sa.event.listen(database.read_engine, 'after_cursor_execute', record)
    try:
        with pytest.raises(errors.ConcurrentUpdateDetected):
            database.write(lambda conn: claim.claim(conn, uuid, 7))
        # No ROLLBACK of its own: the transaction holds no lock, so
        # another session updates the row without waiting.
        assert not any(s.startswith('ROLLBACK') for s in sent)
        bump_without_waiting(database, two_providers[0])
        # The next statement on the connection carries the ROLLBACK.
        assert database.read(rp.get_by_uuid, uuid).generation == 1
        assert sent[-1].startswith('ROLLBACK; ')
        claimed = database.write(lambda conn: claim.claim(conn, uuid, 1))
        assert claimed.generation == 2
    finally:
        sa.event.remove(database.read_engine, 'after_cursor_execute', record)
    assert database.read(rp.get_by_uuid, uuid).generation == 2


def test_failed_claim_after_other_work_rolls_back_at_once(database,
                                                          two_providers):
    if database.backend == 'sqlite':
        pytest.skip('PostgreSQL and MariaDB/MySQL only')
    first, second = (provider_uuid(database, p) for p in two_providers)

    def write(conn):
        claim.claim(conn, first, 0)
        claim.claim(conn, second, 5)

    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write)
    if database.backend == 'postgresql':
        # The connection this thread keeps is idle again.
        assert database.read(lambda conn: conn.connection.dbapi_connection
                             .get_transaction_status()) == 0
    # The first claim was undone, and nothing locks either row.
    assert database.read(rp.get_by_uuid, first).generation == 0
    for provider_id in two_providers:
        bump_without_waiting(database, provider_id)


def test_failed_claim_ends_its_transaction_on_mysql(database, two_providers,
                                                    monkeypatch):
    """On MariaDB/MySQL a claim that fails as its transaction's first
    statement ends the transaction in its own round trip: no ROLLBACK
    follows, and the row is free for others at once."""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    uuid = provider_uuid(database, two_providers[0])
    sent = count_queries(monkeypatch)
    record_transaction_ends(monkeypatch, sent)
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: claim.claim(conn, uuid, 7))
    assert len(sent) == 1
    with pytest.raises(errors.ResourceProviderNotFound):
        database.write(lambda conn: claim.claim(conn, new_uuid(), 0))
    assert len(sent) == 2 and 'rollback' not in sent
    bump_without_waiting(database, two_providers[0])
    # The connection is fit for the next write, which commits.
    claimed = database.write(lambda conn: claim.claim(conn, uuid, 1))
    assert claimed.generation == 2
    assert database.read(rp.get_by_uuid, uuid).generation == 2


def test_claim_that_waited_and_failed_rolls_back_at_once(database,
                                                         two_providers):
    """A claim that waited for a concurrent writer and then found another
    generation may keep a lock on the row: its transaction ends at once
    (rolled back, or on MariaDB/MySQL ended by the claim's own round
    trip), and the row is free for others."""
    if database.backend == 'sqlite':
        pytest.skip('PostgreSQL and MariaDB/MySQL only')
    uuid = provider_uuid(database, two_providers[0])
    holder = database.engine.connect()
    holder.begin()
    bump(holder, two_providers[0])
    outcome = []

    def claim_stale():
        try:
            database.write(lambda conn: claim.claim(conn, uuid, 0))
        except errors.ConcurrentUpdateDetected:
            outcome.append('conflict')

    waiter = threading.Thread(target=claim_stale)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()
    holder.commit()
    holder.close()
    waiter.join(10)
    assert outcome == ['conflict']
    bump_without_waiting(database, two_providers[0])
    assert database.read(rp.get_by_uuid, uuid).generation == 2


# -- connections kept by threads -----------------------------------------

def dbapi_connection(conn):
    return conn.connection.dbapi_connection


def test_a_thread_keeps_its_connection(database):
    first = database.read(dbapi_connection)
    assert database.read(dbapi_connection) is first
    # A nested unit of work gets a connection of its own; the thread
    # then still keeps one.
    inner = database.read(lambda conn: database.read(dbapi_connection))
    assert inner is not first
    assert database.read(dbapi_connection) in (first, inner)
    kept = database._kept(database.read_engine)
    assert kept[(database.read_engine, False)] is not None
    # (And one for writes where they have their own engine or options.)
    assert len(kept) <= 2


def test_no_more_threads_keep_one_than_the_pool_holds(database):
    size = database.read_engine.pool.size()
    barrier = threading.Barrier(size + 2)
    kept = []

    def work():
        kept.append(database.read(lambda conn: database._kept(
            database.read_engine)) is not False)
        barrier.wait(10)

    threads = [threading.Thread(target=work) for _ in range(size + 1)]
    for thread in threads:
        thread.start()
    barrier.wait(10)
    for thread in threads:
        thread.join(10)
    # This thread may already keep one from the fixture's own work.
    assert sum(kept) <= size
    assert sum(kept) >= size - 1


def test_a_kept_connection_that_went_away_is_replaced(database, monkeypatch):
    first = database.read(dbapi_connection)
    # Idle long enough to be checked; and the server dropped it.
    monkeypatch.setattr(db_engine, 'PING_AFTER_IDLE', -1)
    first.close()
    assert database.read(lambda conn: conn.execute(
        sa.select(sa.literal(1))).scalar()) == 1
    assert database.read(dbapi_connection) is not first


def test_no_transaction_stays_open_on_mysql(database, two_providers):
    """MariaDB leaves SERVER_STATUS_IN_TRANS clear in a transaction that
    has only read, yet it holds a read view and metadata locks (a DROP
    or ALTER of its tables would wait): every unit of work ends its
    transaction, whatever it did."""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    uuid = provider_uuid(database, two_providers[0])

    def only_reads(conn):
        return len(conn.execute(sa.select(RP.c.name)).all())

    def open_transactions():
        other = sa.create_engine(database.url, isolation_level='AUTOCOMMIT')
        try:
            with other.connect() as conn:
                return conn.exec_driver_sql(
                    'SELECT COUNT(*) FROM information_schema.innodb_trx'
                ).scalar()
        finally:
            other.dispose()

    for work in (
            lambda: database.write(only_reads),
            lambda: database.write(
                lambda conn: db_database.Unchanged(only_reads(conn))),
            lambda: database.write(rename, two_providers[0], 'first'),
            lambda: database.write(rename, two_providers[1], 'second',
                                   last=True),
            lambda: database.read(only_reads)):
        work()
        assert open_transactions() == 0
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: claim.claim(conn, uuid, 5))
    assert open_transactions() == 0
    assert names(database) == ['first', 'second']


def lock_then_fail(provider_id, last_via):
    """A write whose only work before its failing last statement is a
    locking read: on MariaDB the server's replies then never showed a
    transaction open (SERVER_STATUS_IN_TRANS clear), yet it holds the
    row's lock.  The last statement takes the name 'two' already has (a
    unique violation), so its COMMIT never runs."""
    def write(conn):
        conn.execute(sa.select(RP.c.id).where(RP.c.id == provider_id)
                     .with_for_update()).all()
        statement = sa.update(RP).where(RP.c.id == provider_id).values(
            name='two')
        if last_via == 'direct':
            sql.execute(conn, statement, last=True)
        else:
            conn.execute(statement,
                         execution_options={db_engine.LAST: True})
    return write


@pytest.mark.parametrize('last_via', ['direct', 'sqlalchemy'])
def test_failed_last_statement_leaves_no_lock_behind(database, two_providers,
                                                     last_via):
    """A last statement that fails did not commit: its transaction is
    rolled back at once, so the locks it took are not kept by the
    connection that goes back to the pool (or stays with this thread)
    until its next use."""
    with pytest.raises(sa_exc.IntegrityError):
        database.write(lock_then_fail(two_providers[0], last_via))
    if database.backend != 'sqlite':
        # Another session writes the row without waiting.
        bump_without_waiting(database, two_providers[0])
    assert names(database) == ['one', 'two']


def test_deadlock_inside_a_savepoint_is_retried(database, two_providers):
    """A deadlock whose victim is inside a savepoint (``begin_nested``,
    as creating a consumer, trait or class does): MariaDB ends the whole
    transaction, so rolling back to the savepoint then fails too ('SAVEPOINT
    ... does not exist').  The write is still run again, not answered 500.
    (PostgreSQL rolls back to the savepoint and raises the deadlock.)"""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    first, second = two_providers
    other = write_connection(database)
    calls = []

    def write(conn):
        calls.append(1)
        bump(conn, first)
        if len(calls) > 1:
            return 'done'
        # The other transaction holds ``second``, changes more rows than
        # this one (so that this one is the deadlock's victim) and then
        # waits for ``first``.
        other.begin()
        bump(other, second)
        other.execute(sa.insert(tables.traits), [
            {'name': 'CUSTOM_HEAVY_%d' % n} for n in range(20)])
        waiter = threading.Thread(target=lambda: (bump(other, first),
                                                  other.commit()))
        waiter.start()
        waiter.join(timeout=0.5)
        try:
            with conn.begin_nested():
                bump(conn, second)
        finally:
            threads.append(waiter)

    threads = []
    try:
        assert database.write(write) == 'done'
    finally:
        for waiter in threads:
            waiter.join(timeout=30)
        if other.in_transaction():
            other.rollback()
        other.close()
    assert len(calls) == 2
    generations = database.read(lambda conn: conn.execute(
        sa.select(RP.c.generation).where(RP.c.id.in_(two_providers))
        .order_by(RP.c.id)).scalars().all())
    # The other transaction bumped both, the write's second run ``first``.
    assert generations == [2, 1]
