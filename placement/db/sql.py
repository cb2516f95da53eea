"""Small portable SQL helpers the data layer shares."""

import datetime

from sqlalchemy.dialects import mysql, postgresql, sqlite


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def insert_ignore(conn, table, rows, index_elements):
    """Insert ``rows`` (a list of dicts), skipping those that would break
    the unique key ``index_elements``.  Concurrent inserters of the same
    key wait for each other instead of failing."""
    if not rows:
        return
    now = utcnow()
    rows = [dict(row, created_at=now) if 'created_at' in table.c else row
            for row in rows]
    dialect = conn.dialect.name
    if dialect == 'postgresql':
        stmt = postgresql.insert(table).on_conflict_do_nothing(
            index_elements=index_elements)
    elif dialect == 'sqlite':
        stmt = sqlite.insert(table).on_conflict_do_nothing(
            index_elements=index_elements)
    elif dialect in ('mysql', 'mariadb'):
        stmt = mysql.insert(table).prefix_with('IGNORE')
    else:
        raise NotImplementedError(dialect)
    conn.execute(stmt, rows)
