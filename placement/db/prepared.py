"""Server-side prepared statements on PostgreSQL.

psycopg2 sends every statement as text, so PostgreSQL parses and plans
it each time; for the short statements of this service planning costs
more than running them (a provider claim: about 0.3 ms of planning for
0.05 ms of work).  ``rewrite`` turns a statement into ``EXECUTE name(...)``
of a statement prepared once per database session, with parameter types
declared from the SQLAlchemy binds, so later executions skip parsing and,
after a few runs, planning.

Which statements: those of write transactions, and reads whose statement
carries the execution option ``PREPARE`` (the hot ones).  A statement
that cannot be prepared (PREPARE fails) is remembered and always sent as
text; preparing is done on its own, inside a savepoint when a
transaction is open, so a failure never touches the caller's
transaction.  Each session keeps at most ``MAX_PER_SESSION`` statements.
"""

import logging
import re
import weakref

from sqlalchemy.sql import sqltypes

LOG = logging.getLogger(__name__)

# Execution option of a read statement worth preparing.
PREPARE = 'placement_prepare'
MAX_PER_SESSION = 300

_PLACEHOLDER = re.compile(r'%\((\w+)\)s')
_IMV_SUFFIX = re.compile(r'__\d+$')
_EXPANDED_SUFFIX = re.compile(r'_\d+$')
_KINDS = ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH')

# DBAPI connection -> {statement text: name, or None if not preparable}
_SESSIONS = weakref.WeakKeyDictionary()


# Declared parameter types: wide ones, so that a value the statement as
# text would have taken (a 40-character string compared with a uuid
# column, an integer beyond 32 bits) is not refused by the declaration.
_TYPES = ((sqltypes.Boolean, 'boolean'), (sqltypes.Integer, 'bigint'),
          (sqltypes.Float, 'float8'), (sqltypes.Numeric, 'numeric'),
          (sqltypes.String, 'text'), (sqltypes.DateTime, 'timestamp'))


def fits_bigint(value):
    """True when the integer ``value`` fits a 64-bit integer (a bigint
    parameter, or one SQLite takes)."""
    return -_BIGINT <= value < _BIGINT


def _fits(parameters):
    """False when an integer parameter is beyond a bigint: as text the
    statement compares it as a numeric, a declared bigint would fail."""
    return all(fits_bigint(v) for v in parameters.values()
               if type(v) is int)


_BIGINT = 2 ** 63


def _bind_type(binds, name):
    """The type to declare for the bind parameter ``name``."""
    bind = binds.get(name)
    if bind is None:
        bind = binds.get(_IMV_SUFFIX.sub('', name))
    if bind is None:
        bind = binds.get(_EXPANDED_SUFFIX.sub('', name))
    if bind is not None:
        for type_, declared in _TYPES:
            if isinstance(bind.type, type_):
                return declared
    return 'unknown'


def _prepare(cursor, name, text, types, in_transaction):
    """PREPARE on its own; False when PostgreSQL refuses it."""
    prepare = 'PREPARE %s%s AS %s' % (
        name, '(%s)' % ', '.join(types) if types else '', text)
    if in_transaction:
        cursor.execute('SAVEPOINT placement_prepare')
    try:
        cursor.execute(prepare)
    except Exception as error:
        LOG.debug('not preparing %s: %s', text[:200], error)
        if in_transaction:
            cursor.execute('ROLLBACK TO SAVEPOINT placement_prepare')
            cursor.execute('RELEASE SAVEPOINT placement_prepare')
        return False
    if in_transaction:
        cursor.execute('RELEASE SAVEPOINT placement_prepare')
    return True


# What a session knows of a statement it has not seen yet.
_UNSEEN = object()


def rewrite(cursor, statement, parameters, binds, in_transaction):
    """``statement`` as an EXECUTE of its prepared form, or unchanged.
    ``parameters`` must be the dict psycopg2 interpolates; ``binds`` are
    the compiled statement's bind parameters ({name: BindParameter}),
    None for a statement given as text."""
    if binds is None or not isinstance(parameters, dict):
        return statement
    dbapi_conn = cursor.connection
    session = _SESSIONS.get(dbapi_conn)
    if session is None:
        session = _SESSIONS[dbapi_conn] = {}
    execute = session.get(statement, _UNSEEN)
    if execute is _UNSEEN:
        if len(session) >= MAX_PER_SESSION:
            return statement
        execute = session[statement] = _prepared(
            cursor, statement, parameters, binds, len(session) + 1,
            in_transaction)
    if execute is None or not _fits(parameters):
        return statement
    return execute


def _prepared(cursor, statement, parameters, binds, number,
              in_transaction):
    """Prepare ``statement`` as the session's ``number``-th; the EXECUTE
    text that runs it (psycopg2 interpolates its parameters), or None
    when it is not to be prepared."""
    if (not statement.lstrip().upper().startswith(_KINDS)
            or ';' in statement):
        return None
    names = list(dict.fromkeys(_PLACEHOLDER.findall(statement)))
    if not all(n in parameters for n in names):
        return None
    position = {n: i for i, n in enumerate(names, 1)}
    text = _PLACEHOLDER.sub(lambda m: '$%d' % position[m.group(1)],
                            statement)
    # The PREPARE is sent without parameters: nothing unescapes '%%'.
    text = text.replace('%%', '%')
    name = 'placement_%d' % number
    types = [_bind_type(binds, n) for n in names]
    if not _prepare(cursor, name, text, types, in_transaction):
        return None
    if not names:
        return 'EXECUTE %s' % name
    return 'EXECUTE %s(%s)' % (name, ', '.join('%%(%s)s' % n for n in names))
