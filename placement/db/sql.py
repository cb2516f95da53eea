"""Small portable SQL helpers the data layer shares."""

import contextlib
import datetime
import re

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from placement.db import direct
from placement.db import engine


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def utcnow_as_stored(conn):
    """The current time as ``conn``'s database will store it: MySQL's
    DATETIME columns keep whole seconds."""
    now = utcnow()
    if conn.dialect.name in ('mysql', 'mariadb'):
        now = now.replace(microsecond=0)
    return now


def execute(conn, statement, params=None, last=False, then=None):
    """``conn.execute`` (straight on the DBAPI cursor where ``direct``
    can send the statement: the answer is then a ``direct.Rows``); with
    ``last``, as the last statement of the write
    transaction: nothing may run after it.  On PostgreSQL the last
    statement travels with the COMMIT, saving a round trip, and its result
    (rows, rowcount) is then not available -- except when it is the
    transaction's only statement: it runs alone, without BEGIN and
    COMMIT, and its result is returned.  On MariaDB/MySQL the COMMIT
    follows the statement in the same round trip and its result is
    returned.

    ``then`` (only where ``sends_together``): (statement, parameters) to
    run right after ``statement`` in the same round trip (or (tuple of
    statements, parameters) to run several); its result is ignored and
    its parameter names must not clash with ``params``.
    """
    together = sends_together(conn)
    options = {}
    if last:
        options[engine.LAST] = True
    if then is not None:
        if not together:
            raise ValueError('%s sends one statement at a time'
                             % conn.dialect.name)
        options[engine.THEN] = _then(conn, *then)
    if direct.runs_here(conn):
        result = direct.run(conn, statement, params, options)
        if result is not None:
            return result
    if together and options:
        # By the time the caller asks, the cursor's rowcount is that of
        # the statements sent after this one.
        options['preserve_rowcount'] = True
        if isinstance(params, list) and len(params) > 1 and \
                isinstance(statement, sa.Insert):
            # The driver's own multi-row INSERT cannot carry more
            # statements: send one INSERT of every row instead.
            statement, params = statement.values(params), None
    return conn.execute(statement, params, execution_options=options)


def array_literal(values):
    """PostgreSQL: the text of an array of the strings ``values`` (one
    parameter the server parses, which costs the driver much less than
    a list; the statement casts it to the array type).  Strings with a
    double quote, a backslash, a NUL or a lone surrogate are left out:
    for looking up names and uuids, which never have them."""
    if not _quotable(''.join(values)):
        values = [value for value in values if _quotable(value)]
    return '{"%s"}' % '","'.join(values) if values else '{}'


def integer_array_literal(values):
    """PostgreSQL: the text of an array of the integers ``values``, sorted
    (as ``array_literal``, for a parameter cast to an integer array)."""
    return '{%s}' % ','.join(map(str, sorted(values)))


def _quotable(text):
    if '"' in text or '\\' in text or '\x00' in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def holds_nothing(conn):
    """The statement just run (a failed claim) took no lock and changed
    nothing (``engine.holds_nothing``)."""
    engine.holds_nothing(conn)


def sends_together(conn):
    """True when ``conn`` sends several statements in one round trip
    (``execute``'s ``then``): MariaDB/MySQL through pymysql, unless
    ``[placement_database] multi_statements`` is off."""
    return getattr(conn.dialect, engine.SENDS_TOGETHER, False)


# (dialect name, statement) -> its SQL text: statements sent after
# another one are built once and compiled once.
_COMPILED = {}


def _then(conn, statements, params):
    key = (conn.dialect.name, statements)
    text = _COMPILED.get(key)
    if text is None:
        texts = []
        for statement in (statements if isinstance(statements, tuple)
                          else (statements,)):
            compiled = statement.compile(dialect=conn.dialect)
            if compiled.positional or compiled.binds.keys() - params.keys():
                raise ValueError('a statement sent after another needs '
                                 'every parameter by name: %s' % statement)
            texts.append(compiled.string)
        text = _COMPILED[key] = '; '.join(texts)
    return text, params


# (column, count) -> the DELETE ``unlinking`` sends.
_UNLINK = {}


def unlinking(column, provider_id, ids):
    """(statement, parameters) for ``execute``'s ``then``: delete the
    links of the provider ``provider_id`` to ``ids`` (values of
    ``column``, of a table of links keyed by provider)."""
    key = (column, len(ids))
    statement = _UNLINK.get(key)
    if statement is None:
        table = column.table
        statement = _UNLINK[key] = sa.delete(table).where(
            table.c.resource_provider_id == sa.bindparam('then_provider_id'),
            column.in_([sa.bindparam('then_gone_%d' % i)
                        for i in range(len(ids))]))
    params = {'then_gone_%d' % i: value
              for i, value in enumerate(sorted(ids))}
    params['then_provider_id'] = provider_id
    return statement, params


def insert_ignore(conn, table, rows, index_elements, returning=()):
    """Insert ``rows`` (a list of dicts), skipping those that would break
    the unique key ``index_elements`` (empty: any unique key).  Concurrent
    inserters of the same key wait for each other instead of failing.

    With ``returning`` (columns of ``table``) the answer is the list of
    those columns of the rows actually inserted, where the database can
    say (PostgreSQL, SQLite, MariaDB); elsewhere it is None.
    """
    returning = tuple(returning) if conn.dialect.insert_returning else ()
    if not rows:
        return [] if returning else None
    now = utcnow()
    rows = [dict(row, created_at=now) if 'created_at' in table.c else row
            for row in rows]
    result = conn.execute(_insert_ignore_statement(
        conn.dialect.name, table, tuple(index_elements), returning), rows)
    return result.all() if returning else None


@contextlib.contextmanager
def zero_ids_kept(conn):
    """Within: an id of 0 given to an INSERT is stored as 0 (MariaDB/MySQL
    would otherwise take it as "the next one")."""
    if conn.dialect.name not in ('mysql', 'mariadb'):
        yield
        return
    mode = conn.execute(sa.text('SELECT @@SESSION.sql_mode')).scalar()
    conn.execute(sa.text(
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"))
    try:
        yield
    finally:
        conn.execute(sa.text('SET SESSION sql_mode = :mode'), {'mode': mode})


def insert_ignore_statement(conn, table, index_elements):
    """The statement ``insert_ignore`` runs (without RETURNING), for
    ``execute``; rows need every column, ``created_at`` included."""
    return _insert_ignore_statement(conn.dialect.name, table,
                                    tuple(index_elements), ())


# Built once per (dialect, table, key, returning): building costs more
# than running.
_INSERT_IGNORE = {}


def _insert_ignore_statement(dialect, table, index_elements, returning):
    key = (dialect, table.name, index_elements, returning)
    stmt = _INSERT_IGNORE.get(key)
    if stmt is not None:
        return stmt
    if dialect == 'postgresql':
        stmt = postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements) or None)
    elif dialect == 'sqlite':
        stmt = sqlite.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements) or None)
    elif dialect in ('mysql', 'mariadb'):
        stmt = mysql.insert(table).prefix_with('IGNORE')
    else:
        raise NotImplementedError(dialect)
    if returning:
        stmt = stmt.returning(*returning)
    _INSERT_IGNORE[key] = stmt
    return stmt


_MYSQL_KEY = re.compile(r"for key '([^']+)'")
_SQLITE_KEY = re.compile(r'UNIQUE constraint failed: (\S+)')


def duplicate_key(error):
    """The unique constraint (or, on SQLite, the table.column) that an
    IntegrityError says was violated; None when it does not say."""
    orig = getattr(error, 'orig', error)
    diag = getattr(orig, 'diag', None)
    if diag is not None:
        return diag.constraint_name
    match = (_MYSQL_KEY.search(str(orig)) or _SQLITE_KEY.search(str(orig)))
    return match.group(1) if match else None
