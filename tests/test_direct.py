"""placement/db/direct.py on every backend: statements sent straight on
the DBAPI connection answer what SQLAlchemy's execution answers (rows,
names, types, row counts, errors), and fall back to SQLAlchemy where they
cannot be sent that way; on MariaDB/MySQL with answers read both by
``pymysql_reader`` and by pymysql's cursor."""

import gc

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement.db import direct
from placement.db import pymysql_reader
from placement.db import sql
from placement.db import tables

TRAITS = tables.traits
INV = tables.inventories
RP = tables.resource_providers

BY_NAMES = sa.select(TRAITS.c.id, TRAITS.c.name).where(
    TRAITS.c.name.in_(sa.bindparam('names', expanding=True))
).order_by(TRAITS.c.name)
ADD = sa.insert(TRAITS)
RENAME = sa.update(TRAITS).where(TRAITS.c.name == sa.bindparam('old')) \
    .values(name=sa.bindparam('new'), updated_at=sa.null())


@pytest.fixture(autouse=True, params=['reader', 'cursor'])
def pymysql_answers(request, monkeypatch, database):
    """On MariaDB/MySQL every test runs twice: with answers read by
    ``pymysql_reader``, and by pymysql's cursor (where a pymysql release
    lacks what the reader uses)."""
    if request.param == 'cursor':
        if database.backend != 'mysql':
            pytest.skip('answers are read two ways on MariaDB/MySQL only')
        monkeypatch.setattr(pymysql_reader, 'usable', lambda conn: False)
    return request.param


def both_ways(database, statement, params=None, write=False):
    """(what SQLAlchemy answers, what ``direct.run`` answers) for the same
    statement; the first run of a statement always goes to SQLAlchemy."""
    def sqlalchemy_run(conn):
        return conn.execute(statement, params).all()

    def direct_run(conn):
        direct.run(conn, statement, params)  # seen once: left to SA
        return direct.run(conn, statement, params)

    run = database.write if write else database.read
    return run(sqlalchemy_run), run(direct_run)


def test_runs_only_where_the_driver_allows(database):
    expected = database.backend != 'sqlite'
    assert database.read(direct.runs_here) is expected


def test_rows_match_sqlalchemy(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')
    names = ['HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE2', 'NO_SUCH_TRAIT']
    expected, rows = both_ways(database, BY_NAMES, {'names': names})
    rows = rows.all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
    assert len(rows) == 2
    assert [r.name for r in rows] == [r.name for r in expected]
    assert rows[0]._mapping == dict(expected[0]._mapping)


def test_datetimes_and_floats_keep_their_types(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')
    provider_id = database.write(lambda conn: sql.execute(
        conn, sa.insert(RP).values(uuid='u' * 36, name='p', generation=0,
                                   created_at=sql.utcnow())
    ).inserted_primary_key[0])
    database.write(lambda conn: conn.execute(sa.insert(INV).values(
        resource_provider_id=provider_id, resource_class_id=0, total=8,
        reserved=0, min_unit=1, max_unit=8, step_size=1,
        allocation_ratio=1.5, created_at=sql.utcnow())))
    statement = sa.select(INV.c.allocation_ratio, INV.c.created_at,
                          INV.c.updated_at)
    expected, rows = both_ways(database, statement)
    assert rows.all() == [tuple(r) for r in expected]
    ratio, created, updated = rows.first()
    assert type(ratio) is type(expected[0][0])
    assert type(created) is type(expected[0][1])
    assert updated is None


def test_insert_of_several_rows_is_one_statement(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')
    rows = [{'name': 'CUSTOM_A%d' % n, 'created_at': sql.utcnow()}
            for n in range(3)]
    sent = []

    def record(conn, cursor, statement, *_args):
        sent.append(statement)

    def write(conn):
        direct.run(conn, ADD, [{'name': 'CUSTOM_B', 'created_at': None}])
        sa.event.listen(conn, 'after_cursor_execute', record)
        return direct.run(conn, ADD, rows)

    result = database.write(write)
    assert result is not None and result.rowcount == 3
    inserts = [s for s in sent if s != 'COMMIT']
    assert len(inserts) == 1 and 'CUSTOM' not in inserts[0]
    found = database.read(lambda conn: conn.execute(
        sa.select(TRAITS.c.name).where(TRAITS.c.name.like('CUSTOM_A%'))
        .order_by(TRAITS.c.name)).scalars().all())
    assert found == ['CUSTOM_A0', 'CUSTOM_A1', 'CUSTOM_A2']


def test_insert_answers_its_primary_key(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')

    def write(conn, name):
        result = sql.execute(conn, ADD, {'name': name,
                                         'created_at': sql.utcnow()})
        return result.inserted_primary_key[0]

    ids = [database.write(write, 'CUSTOM_K%d' % n) for n in range(3)]
    found = database.read(lambda conn: conn.execute(
        sa.select(TRAITS.c.id, TRAITS.c.name)
        .where(TRAITS.c.name.like('CUSTOM_K%'))).all())
    assert sorted(ids) == sorted(i for i, _ in found)
    assert len(set(ids)) == 3


def test_python_column_defaults_are_left_to_sqlalchemy(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')

    def write(conn, name):
        # created_at has a default computed in Python.
        return direct.run(conn, ADD, {'name': name})

    assert database.write(write, 'CUSTOM_D1') is None
    assert database.write(write, 'CUSTOM_D2') is None


def test_update_row_count(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')
    params = {'old': 'HW_CPU_X86_AVX2', 'new': 'HW_CPU_X86_AVX2'}

    def write(conn):
        direct.run(conn, RENAME, params)
        return direct.run(conn, RENAME, dict(params, old='NOPE')).rowcount

    assert database.write(write) == 0


def test_what_it_cannot_send_is_left_to_sqlalchemy(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')

    def read(conn):
        direct.run(conn, BY_NAMES, {'names': ['X']})
        return (direct.run(conn, BY_NAMES, {'names': []}),
                direct.run(conn, BY_NAMES, {
                    'names': ['N%d' % n
                              for n in range(direct.MAX_ROWS + 1)]}),
                sql.execute(conn, BY_NAMES, {'names': []}).all())

    empty, too_long, through_sql = database.read(read)
    assert empty is None and too_long is None
    assert through_sql == []


def test_statements_built_for_one_call_leave_no_plan(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')

    def read(conn, name):
        statement = sa.select(TRAITS.c.id).where(TRAITS.c.name == name)
        return direct.run(conn, statement)

    gc.collect()
    before = len(direct._PLANS)
    for n in range(20):
        assert database.read(read, 'N%d' % n) is None
    gc.collect()
    assert len(direct._PLANS) == before


def test_errors_are_sqlalchemy_errors(database):
    if database.backend == 'sqlite':
        pytest.skip('SQLite always uses SQLAlchemy')
    row = {'name': 'HW_CPU_X86_AVX2', 'created_at': sql.utcnow()}

    def write(conn):
        direct.run(conn, ADD, dict(row, name='CUSTOM_FIRST'))
        direct.run(conn, ADD, row)

    with pytest.raises(sa_exc.IntegrityError) as caught:
        database.write(write)
    assert sql.duplicate_key(caught.value)
    # Nothing of the failed transaction stayed, and the connection works.
    names = database.read(lambda conn: conn.execute(
        sa.select(TRAITS.c.name).where(TRAITS.c.name == 'CUSTOM_FIRST'))
        .all())
    assert names == []


def test_literals_are_what_pymysql_writes(database):
    """``literals.render`` writes parameters into a statement's text as
    pymysql's own quoting does, for the values it quotes itself and the
    ones it leaves to pymysql."""
    if database.backend != 'mysql':
        pytest.skip('pymysql only')
    import datetime
    import decimal

    from placement.db import literals
    values = [0, -7, 2 ** 70, 'CUSTOM_A', '', "it's", 'back\\slash',
              'new\nline', '"quoted"', 'nul\x00', 'ünïcode ☃', None,
              datetime.datetime(2026, 11, 23, 18, 5, 1),
              datetime.datetime(2026, 11, 23, 18, 5, 1, 42),
              datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc),
              True, 1.5, 1e300, decimal.Decimal('2.50'), b'bytes',
              datetime.date(2026, 11, 23)]
    params = {'p%d' % i: value for i, value in enumerate(values)}
    text = 'SELECT ' + ', '.join('%%(p%d)s' % i for i in range(len(values)))
    text += " WHERE name LIKE 'A%%'"

    def compare(conn):
        dbapi_conn = conn.connection.dbapi_connection
        return (literals.render(dbapi_conn, text, params),
                dbapi_conn.cursor().mogrify(text, params))
    ours, theirs = database.read(compare)
    assert ours == theirs
    assert "LIKE 'A%'" in ours
