"""placement/db/prepared.py: PostgreSQL runs the statements of write
transactions (and marked reads) as prepared statements, and a statement
that cannot be prepared, or a value a declared type would refuse, never
fails a request."""

import pytest
import sqlalchemy as sa

from placement import app as app_mod
from placement.db import prepared
from placement.db import tables
from tests.conftest import make_conf

RP = tables.resource_providers


@pytest.fixture
def pg(database):
    if database.backend != 'postgresql':
        pytest.skip('prepared statements are a PostgreSQL matter')
    return database


def prepared_statements(conn):
    return conn.exec_driver_sql(
        'SELECT statement FROM pg_prepared_statements').scalars().all()


def add(conn, name, generation=0):
    conn.execute(sa.insert(RP).values(uuid=name.ljust(36, '0'), name=name,
                                      generation=generation))


def test_write_statements_are_prepared_once_and_give_the_same_answers(pg):
    def write(conn, name):
        add(conn, name)
        return (conn.execute(sa.select(RP.c.name).where(RP.c.name == name))
                .scalar_one(), prepared_statements(conn))

    first, statements = pg.write(write, 'one')
    second, again = pg.write(write, 'two')
    assert (first, second) == ('one', 'two')
    assert any('INSERT INTO resource_providers' in s for s in statements)
    assert any('SELECT resource_providers.name' in s for s in statements)
    # The pool has one connection here: nothing was prepared twice.
    assert len(again) == len(set(again))


def test_reads_are_prepared_only_when_marked(pg):
    plain = sa.select(RP.c.id).where(RP.c.name == sa.bindparam('n'))
    marked = plain.where(RP.c.generation >= 0).execution_options(
        **{prepared.PREPARE: True})

    def read(conn):
        conn.execute(plain, {'n': 'x'}).all()
        conn.execute(marked, {'n': 'x'}).all()
        return prepared_statements(conn)

    statements = pg.read(read)
    assert any('generation >= ' in s for s in statements)
    assert not any('generation' not in s and 'WHERE resource_providers.name'
                   in s for s in statements)


def test_value_beyond_a_bigint_runs_as_text(pg):
    huge = 123456789012345678901234567890

    def write(conn):
        add(conn, 'huge')
        # Prepared with a bigint parameter the first time...
        found = conn.execute(sa.select(RP.c.id).where(
            RP.c.generation == sa.bindparam('g')), {'g': 0}).all()
        # ...and run as text (a numeric comparison) for this value.
        none = conn.execute(sa.select(RP.c.id).where(
            RP.c.generation == sa.bindparam('g')), {'g': huge}).all()
        return len(found), none

    assert pg.write(write) == (1, [])


def test_statement_that_cannot_be_prepared_still_runs(pg):
    # Declared from its bind, the parameter is a bigint, which cannot be
    # compared with a name: PREPARE fails; as text the value is a string.
    odd = sa.select(RP.c.name).where(
        RP.c.name == sa.bindparam('v', type_=sa.Integer))

    def write(conn):
        add(conn, 'before')
        value = conn.execute(odd, {'v': 'before'}).scalar_one()
        add(conn, 'after')
        return value, prepared_statements(conn)

    value, statements = pg.write(write)
    assert value == 'before'
    assert not any('WHERE resource_providers.name = $1' in s
                   for s in statements)
    # The failed PREPARE did not spoil the transaction around it.
    names = pg.read(lambda conn: sorted(
        conn.execute(sa.select(RP.c.name)).scalars()))
    assert names == ['after', 'before']


def test_percent_signs_survive(pg):
    def write(conn):
        add(conn, 'a%b')
        return conn.execute(sa.select(RP.c.name).where(
            RP.c.name.like('a%%b'.replace('%%', '%')))).scalars().all()

    assert pg.write(write) == ['a%b']


def test_switched_off_by_configuration(pg):
    conf = make_conf(pg.url)
    conf.set_override('prepared_statements', False,
                      group='placement_database')
    db = app_mod.make_database(conf)
    try:
        def write(conn):
            add(conn, 'plain')
            return prepared_statements(conn)

        assert db.write(write) == []
    finally:
        db.dispose()
