"""placement.db.sql.array_literal: the text of a PostgreSQL array of
strings, leaving out strings it cannot quote."""

import uuid

import pytest
import sqlalchemy as sa

from placement.db import sql
from tests import databases

PLAIN = sorted(str(uuid.uuid4()) for _ in range(5)) + ['CUSTOM_É_Ü']


def test_plain_strings():
    assert sql.array_literal(PLAIN) == '{"%s"}' % '","'.join(PLAIN)
    assert sql.array_literal(PLAIN[:1]) == '{"%s"}' % PLAIN[0]
    assert sql.array_literal([]) == '{}'


@pytest.mark.parametrize('odd', ['a"b', 'a\\b', 'a\x00b', 'a\ud800b'])
def test_strings_it_cannot_quote_are_left_out(odd):
    assert sql.array_literal(PLAIN[:2] + [odd] + PLAIN[2:]) == \
        sql.array_literal(PLAIN)
    assert sql.array_literal([odd]) == '{}'


@pytest.mark.parametrize('backend', [
    b for b in databases.backends() if b == 'postgresql'])
def test_postgresql_reads_the_values_back(database):
    def read(conn):
        return conn.execute(sa.text('SELECT CAST(:a AS text[])'),
                            {'a': sql.array_literal(PLAIN)}).scalar()
    assert database.read(read) == PLAIN
