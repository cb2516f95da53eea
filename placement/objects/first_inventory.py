"""A provider's first inventory: a PUT of its whole inventory naming
generation 0.

A provider at generation 0 has never been written, and every write of
an inventory increments the generation: so when the claim of generation
0 succeeds there is nothing to compare with, remove or check against
allocations, and the write is the insertion of every record.  On
PostgreSQL and on MariaDB/MySQL sending statements together, the claim
and the insertions then travel in one round trip, which also commits:
the insertions read the claimed row, so they insert nothing when the
claim fails.  Every other inventory write claims first and then writes
what the claim read calls for (``placement.api.inventories``).
"""

import dataclasses

import sqlalchemy as sa

from placement import errors
from placement.db import engine as db_engine
from placement.db import sql
from placement.db import tables
from placement.objects import claim
from placement.objects import inventory as inv_obj
from placement.objects import resource_class
from placement.objects import resource_provider as rp

INV = tables.inventories
RP = tables.resource_providers
_COLUMNS = ('resource_class_id', *inv_obj.FIELDS)
_INSERTED = ['resource_provider_id', *_COLUMNS, 'created_at']
# MariaDB/MySQL: whether the claim sent before the insertions incremented
# the generation.
_CLAIMED_FLAG = '@placement_claimed'

# (dialect name, number of records) -> what is sent.
_STATEMENTS = {}


def applies(conn):
    """True where the claim and the insertions can share a round trip,
    as the first statements of ``conn``'s write transaction."""
    return ((conn.dialect.name == 'postgresql' or sql.sends_together(conn))
            and db_engine.nothing_done_yet(conn))


def class_ids(conn, inventories):
    """{class name: id} of ``inventories`` when every class is a standard
    one whose id is known without a query (so that ``write`` is the
    transaction's first statement); else None."""
    return resource_class.standard_ids(
        conn, [inv.resource_class for inv in inventories])


def _parameter(name, number, column, cast):
    value = sa.bindparam('%s_%d' % (name, number))
    return sa.cast(value, INV.c[column].type) if cast else value


def _postgresql(count):
    """The claim statement with a CTE inserting ``count`` records for the
    claimed row."""
    wanted = sa.union_all(*[
        sa.select(*[_parameter(column, number, column, True).label(column)
                    for column in _COLUMNS])
        for number in range(count)]).subquery('wanted')
    claimed = claim.CLAIMED_POSTGRESQL
    added = sa.insert(INV).from_select(_INSERTED, sa.select(
        claimed.c.id, *[wanted.c[column] for column in _COLUMNS],
        sa.cast(sa.bindparam('now'), INV.c.created_at.type))
        .select_from(claimed.join(wanted, sa.true()))).cte('added')
    return claim.claim_statement_postgresql().add_cte(added)


def _mysql(count):
    """What follows the claim's locking read: the increment, whether it
    changed the row, and the insertion of ``count`` records (each read
    with the provider's id, only if it did)."""
    rows = [sa.select(RP.c.id, *[_parameter('then_' + column, number,
                                            column, False)
                                 for column in _COLUMNS],
                      sa.bindparam('then_now'))
            .where(RP.c.uuid == sa.bindparam('then_uuid'),
                   sa.literal_column(_CLAIMED_FLAG) > sa.literal_column('0'))
            for number in range(count)]
    return (claim.INCREMENT_BY_UUID,
            sa.text('SET %s = ROW_COUNT()' % _CLAIMED_FLAG),
            sa.insert(INV).from_select(_INSERTED, sa.union_all(*rows)))


def _statement(conn, count):
    key = (conn.dialect.name, count)
    statement = _STATEMENTS.get(key)
    if statement is None:
        build = _postgresql if conn.dialect.name == 'postgresql' else _mysql
        statement = _STATEMENTS[key] = build(count)
    return statement


def write(conn, uuid, inventories, ids, conflict_message):
    """Claim the provider at ``uuid`` at generation 0 and insert
    ``inventories`` (their classes' ids in ``ids``), as the whole of the
    transaction, in one round trip that commits.  Answers (provider,
    the inventories as written, ordered by class id); raises
    ResourceProviderNotFound or ConcurrentUpdateDetected."""
    now = sql.utcnow_as_stored(conn)
    inventories = sorted(inventories,
                         key=lambda inv: ids[inv.resource_class])
    if conn.dialect.name == 'postgresql':
        params = {'rp_uuid': uuid, 'expected': 0, 'now': now}
        prefix = ''
    else:
        params = {'then_uuid': uuid, 'then_expected': 0, 'then_now': now}
        prefix = 'then_'
    for number, inv in enumerate(inventories):
        values = dict(inv.values(), resource_class_id=ids[inv.resource_class])
        for column in _COLUMNS:
            params['%s%s_%d' % (prefix, column, number)] = values[column]
    statement = _statement(conn, len(inventories))
    if conn.dialect.name == 'postgresql':
        row = sql.execute(conn, statement, params, last=True).first()
        provider = claim.claimed_postgresql(conn, row, uuid, 0,
                                            conflict_message)
    else:
        row = sql.execute(conn, claim.LOCKING_READ, {'uuid': uuid},
                          then=(statement, params), last=True).first()
        if row is None:
            raise errors.ResourceProviderNotFound(uuid=uuid)
        if row.generation != 0:
            raise errors.ConcurrentUpdateDetected(conflict_message)
        # The row was locked by the read: the increment changed it.
        provider = rp.ResourceProvider.brief(row.id, rp.stored_uuid(uuid), 1,
                                             updated_at=now)
    provider.claimed = True
    return provider, [dataclasses.replace(inv, created_at=now)
                      for inv in inventories]
