"""Statements sent straight on the DBAPI cursor.

Executing a compiled statement through SQLAlchemy's Connection (an
execution context, event dispatch, a result object) costs several times
what the driver itself spends on it: about 100 us against 25 us for a
provider claim, most of a short request's CPU.  ``run`` sends a
statement built with SQLAlchemy Core as its SQL text, compiled once per
dialect, on the connection's DBAPI cursor, with the engine's
per-backend shaping (``engine.shape_of``: BEGIN and COMMIT carried
along, prepared statements, statements sent together) and SQLAlchemy's
error classes, and answers a small ``Rows``.

It does so on PostgreSQL (psycopg2) and MariaDB/MySQL (pymysql,
mysqlclient), whose drivers take named ``%(name)s`` parameters; the
types' own conversions of parameters and result columns are applied
where SQLAlchemy would apply them.  An IN list is rendered for its
length, and a list of rows for an INSERT becomes one multi-row INSERT
(each up to MAX_ROWS).  On pymysql the parameters are written into the
text (``literals``) and the answer is read by ``pymysql_reader``.  Only
statements used more than once get a plan (a statement built for one
call is better served by SQLAlchemy's cache, which knows it by its
structure), and statements with column defaults computed in Python,
empty IN lists, or anything else the plan cannot render return None:
the caller then uses SQLAlchemy (SQLite always does).
"""

import collections
import threading
import weakref

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement.db import engine as db_engine
from placement.db import literals
from placement.db import pymysql_reader

DRIVERS = frozenset({('postgresql', 'psycopg2'), ('mysql', 'pymysql'),
                     ('mysql', 'mysqldb'), ('mariadb', 'pymysql'),
                     ('mariadb', 'mysqldb')})
_SETS_COLUMNS = (sa.Insert, sa.Update)
# Most rows of one INSERT, and values of one IN list, sent this way
# (each count is its own text).
MAX_ROWS = 100

# statement -> {(dialect name, parameter names or None, row count or
# None): _Plan, or None when the statement cannot run here}.
_PLANS = weakref.WeakKeyDictionary()
_PLANS_LOCK = threading.Lock()


class Rows:
    """What a statement sent by ``run`` answered: the few parts of
    SQLAlchemy's Result the data layer uses."""

    __slots__ = ('_rows', 'rowcount', 'inserted_primary_key')

    def __init__(self, rows, rowcount, inserted_primary_key):
        self._rows = rows
        self.rowcount = rowcount
        self.inserted_primary_key = inserted_primary_key

    def __iter__(self):
        return iter(self._rows)

    def all(self):
        return self._rows

    def first(self):
        return self._rows[0] if self._rows else None

    def scalar(self):
        return self._rows[0][0] if self._rows else None

    def scalar_one(self):
        if len(self._rows) != 1:
            raise (sa_exc.NoResultFound if not self._rows
                   else sa_exc.MultipleResultsFound)(
                '%d rows where one was expected' % len(self._rows))
        return self._rows[0][0]

    def scalars(self):
        return [row[0] for row in self._rows]


class _Plan:
    """A statement as its dialect's SQL text, with the values of the
    parameters fixed when it was built and the conversions SQLAlchemy's
    types would apply to parameters and to result columns."""

    __slots__ = ('text', 'defaults', 'binds', 'options', 'expanding',
                 'texts', 'bind_processors', 'columns', 'row',
                 'result_processors', 'returns_key')

    def __init__(self, dialect, statement, compiled):
        self.text = compiled.string
        self.binds = compiled.binds
        self.defaults = {name: bind.effective_value
                         for name, bind in compiled.binds.items()
                         if not bind.required}
        self.options = statement.get_execution_options()
        # IN lists: rendered for each length met (``expanded``).
        self.expanding = tuple(name for name, bind in compiled.binds.items()
                               if bind.expanding)
        self.texts = {}
        self.bind_processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.bind_processors[name] = process
        self.columns = getattr(statement, 'exported_columns', ())
        # An INSERT that reads its new primary key back (RETURNING added
        # by the compiler, as on PostgreSQL) rather than from lastrowid.
        self.returns_key = bool(getattr(compiled, 'effective_returning',
                                        None)) and not self.columns
        # Set by the first run, from the cursor's description.
        self.row = self.result_processors = None

    def expanded(self, parameters):
        """The text with each IN list as that many parameters (their
        names suffixed _1, _2..., each value converted as its type
        converts it), and ``parameters`` to match; None for an empty list
        or one longer than MAX_ROWS."""
        lengths = []
        for name in self.expanding:
            values = parameters.pop(name)
            if not values or len(values) > MAX_ROWS:
                return None
            lengths.append(len(values))
            process = self.bind_processors.get(name)
            for number, value in enumerate(values, 1):
                parameters['%s_%d' % (name, number)] = (
                    value if process is None else process(value))
        lengths = tuple(lengths)
        text = self.texts.get(lengths)
        if text is None:
            text = self.text
            for name, length in zip(self.expanding, lengths):
                text = text.replace('__[POSTCOMPILE_%s]' % name, ', '.join(
                    '%%(%s_%d)s' % (name, n) for n in range(1, length + 1)))
            if len(self.texts) < MAX_ROWS:
                self.texts[lengths] = text
        return text

    def describe(self, dialect, description):
        """Learn the result's row shape and column conversions."""
        processors = []
        if len(self.columns) == len(description):
            for column, described in zip(self.columns, description):
                processors.append(column.type.dialect_impl(dialect)
                                  .result_processor(dialect, described[1]))
        self.result_processors = (processors if any(processors)
                                  else None)
        row = collections.namedtuple(
            'Row', [column[0] for column in description], rename=True)
        # Row._mapping, as SQLAlchemy's rows have it.
        self.row = type('Row', (row,), {
            '__slots__': (), '_mapping': property(row._asdict)})


def _multi_row_insert(statement, keys, count):
    table = statement.table
    return statement.values([
        {key: sa.bindparam('%s__%d' % (key, number), type_=table.c[key].type)
         for key in keys}
        for number in range(count)])


def _build(dialect, statement, keys, count):
    column_keys = None
    if count is not None:
        statement = _multi_row_insert(statement, keys, count)
    elif keys is not None:
        # An INSERT or UPDATE sets the columns its parameters name.
        column_keys = list(keys)
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    if (compiled.positional or compiled.escaped_bind_names
            or compiled.literal_execute_params
            # Column defaults computed in Python: SQLAlchemy's to apply.
            or compiled.insert_prefetch or compiled.update_prefetch
            or any(not bind.expanding
                   for bind in compiled.post_compile_params)):
        return None
    return _Plan(dialect, statement, compiled)


def _plan(dialect, statement, keys, count):
    """The statement's plan; None when it cannot run here, or when it was
    never seen before: a statement built for one call is left to
    SQLAlchemy, whose cache knows it by its structure, and one built once
    and used again gets a plan on its second run."""
    plans = _PLANS.get(statement)
    if plans is None:
        with _PLANS_LOCK:
            _PLANS[statement] = {}
        return None
    key = (dialect.name, keys, count)
    try:
        return plans[key]
    except KeyError:
        pass
    plan = _build(dialect, statement, keys, count)
    with _PLANS_LOCK:
        plans[key] = plan
    return plan


def runs_here(conn):
    """True when ``run`` can send statements on ``conn`` (not while they
    are logged: ``connection_debug``)."""
    dialect = conn.dialect
    return (dialect.name, dialect.driver) in DRIVERS and \
        not getattr(dialect, db_engine.LOGS_STATEMENTS, False)


def run(conn, statement, params=None, options=None):
    """Send ``statement`` (SQLAlchemy Core) with ``params`` (a dict, or
    for an INSERT a list of dicts) on ``conn``'s DBAPI connection, shaped
    with the execution ``options`` as the engine shapes SQLAlchemy's own
    executions; None when it cannot be sent this way (``runs_here`` is
    the caller's to check)."""
    keys = count = None
    if isinstance(params, list):
        if (not isinstance(statement, sa.Insert) or not params
                or len(params) > MAX_ROWS):
            return None
        keys = tuple(params[0])
        count = len(params)
    elif params and isinstance(statement, _SETS_COLUMNS):
        keys = frozenset(params)
    plan = _plan(conn.dialect, statement, keys, count)
    if plan is None:
        return None
    parameters = dict(plan.defaults)
    if count is None:
        if params:
            parameters.update(params)
    else:
        for number, row in enumerate(params):
            if row.keys() != params[0].keys():
                return None
            for key in keys:
                parameters['%s__%d' % (key, number)] = row[key]
    text = plan.text
    if plan.expanding:
        text = plan.expanded(parameters)
        if text is None:
            return None
    for name, process in plan.bind_processors.items():
        if name in parameters:
            parameters[name] = process(parameters[name])
    if options:
        options = {**plan.options, **options}
    else:
        options = plan.options
    return _send(conn, plan, text, parameters, options)


def _send(conn, plan, text, parameters, options):
    dialect = conn.dialect
    dbapi_conn = conn.connection.dbapi_connection
    cursor = dbapi_conn.cursor()
    try:
        shape = db_engine.shape_of(conn.engine)
        if shape is not None:
            text, parameters = shape(conn, cursor, text, parameters,
                                     options, plan.binds, False)
        if dialect.driver != 'pymysql':
            answer = _executed(cursor, text, parameters)
        else:
            rendered = literals.render(dbapi_conn, text, parameters)
            if pymysql_reader.usable(dbapi_conn):
                answer = pymysql_reader.query(dbapi_conn, rendered)
            else:
                answer = _executed(cursor, rendered)
        answered, rowcount, lastrowid, description = answer
        rows = []
        if description is not None:
            if plan.row is None or len(plan.row._fields) != len(
                    description):
                plan.describe(dialect, description)
            row_class, make = plan.row, tuple.__new__
            processors = plan.result_processors
            if processors is None:
                rows = [make(row_class, row) for row in answered]
            else:
                rows = [make(row_class, [
                    value if process is None else process(value)
                    for process, value in zip(processors, row)])
                    for row in answered]
        cursor.close()
    except BaseException as error:
        db_engine.statement_failed(conn)
        if not isinstance(error, dialect.loaded_dbapi.Error):
            raise
        invalidated = dialect.is_disconnect(error, dbapi_conn, cursor)
        if invalidated:
            conn.invalidate(error)
        raise sa_exc.DBAPIError.instance(
            text, parameters, error, dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect) from error
    # As after SQLAlchemy's own executions (the engine's PostgreSQL
    # writes learn there that the COMMIT went through).
    after = conn.dispatch.after_cursor_execute
    if after:
        after(conn, cursor, text, parameters, None, False)
    if plan.returns_key:
        return Rows([], rowcount, tuple(rows[0]) if rows else None)
    return Rows(rows, rowcount, (lastrowid,))


def _executed(cursor, text, parameters=None):
    """What the DBAPI ``cursor`` answers to ``text`` (the first result
    of several statements), as ``pymysql_reader.query`` answers: (rows,
    rowcount, last inserted id, description)."""
    if parameters is None:
        cursor.execute(text)
    else:
        cursor.execute(text, parameters)
    description = cursor.description
    return (cursor.fetchall() if description is not None else None,
            cursor.rowcount, cursor.lastrowid, description)
