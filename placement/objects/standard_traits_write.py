"""A write of a provider's traits that names standard traits only (as
compute nodes report theirs): the claim, the comparison with the
provider's traits and the changes in one round trip that commits.

Standard traits are never deleted and their ids are known without a
query, so the whole write can be said in SQL ahead: claim the provider
at the generation named if its traits differ from those named, remove
the others and add the missing ones for the claimed row (nothing when
the claim fails).  The answer tells a stale generation (409) from a set
that is already the provider's (the write changes nothing and leaves
the generation as it is, as ``claim.claim_and_set_traits`` does).  Where
this cannot be sent (SQLite, a driver that sends one statement at a
time, custom traits) ``claim.claim_and_set_traits`` writes the traits.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from placement import errors
from placement.db import engine as db_engine
from placement.db import sql
from placement.db import tables
from placement.objects import resource_provider as rp
from placement.objects import trait

RP = tables.resource_providers
RPT = tables.resource_provider_traits
# MariaDB/MySQL: whether the increment sent after the claim's locking
# read changed the provider's row.
_CLAIMED_FLAG = '@placement_claimed'

# (dialect name, number of traits) -> what is sent.
_STATEMENTS = {}


def applies(conn):
    """True where the write can be sent in one round trip, as the first
    statements of ``conn``'s write transaction."""
    return ((conn.dialect.name == 'postgresql' or sql.sends_together(conn))
            and db_engine.nothing_done_yet(conn))


def trait_ids(conn, names):
    """{name: id} of ``names`` when there are some and each is a standard
    trait whose id is known without a query; else None."""
    split = trait.standard_ids(conn, names)
    if split is None or split[1] or not split[0]:
        return None
    return split[0]


def _differs(provider_id, is_named, named_count):
    """True when the provider ``provider_id`` has a trait not named
    (``is_named(trait id column)`` false) or lacks one that is."""
    return sa.or_(
        sa.exists().where(RPT.c.resource_provider_id == provider_id,
                          sa.not_(is_named(RPT.c.trait_id))),
        sa.select(sa.func.count()).where(
            RPT.c.resource_provider_id == provider_id,
            is_named(RPT.c.trait_id)).scalar_subquery() < named_count)


def _postgresql():
    """One statement: the claim (a CTE), the removal and the addition
    (CTEs reading the claimed row), and an answer read in the
    statement's snapshot."""
    ids = sa.cast(sa.bindparam('ids'), postgresql.ARRAY(sa.Integer))
    count = sa.bindparam('count', type_=sa.Integer)

    def is_named(column):
        return column == sa.any_(ids)
    claimed = (
        sa.update(RP).where(RP.c.uuid == sa.bindparam('rp_uuid'),
                            RP.c.generation == sa.bindparam('expected'),
                            _differs(RP.c.id, is_named, count))
        .values(generation=RP.c.generation + 1,
                updated_at=sa.bindparam('now'))
        .returning(RP.c.id, RP.c.generation, RP.c.updated_at)
        .cte('claimed'))
    claimed_id = sa.select(claimed.c.id).scalar_subquery()
    removed = sa.delete(RPT).where(
        RPT.c.resource_provider_id == claimed_id,
        sa.not_(is_named(RPT.c.trait_id))).cte('removed')
    wanted = sa.select(sa.func.unnest(ids).label('id')).subquery('wanted')
    linked = sa.select(RPT.c.trait_id).where(
        RPT.c.resource_provider_id == claimed.c.id)
    added = sa.insert(RPT).from_select(
        ['trait_id', 'resource_provider_id', 'created_at'],
        sa.select(wanted.c.id, claimed.c.id,
                  sa.cast(sa.bindparam('now'), RPT.c.created_at.type))
        .select_from(claimed.join(wanted, sa.true()))
        .where(wanted.c.id.not_in(linked))).cte('added')
    return (sa.select(RP.c.id, RP.c.generation,
                      claimed.c.generation.label('claimed_generation'),
                      claimed.c.updated_at.label('claimed_updated_at'),
                      _differs(RP.c.id, is_named, count).label('differs'))
            .select_from(RP.outerjoin(claimed, claimed.c.id == RP.c.id))
            .where(RP.c.uuid == sa.bindparam('rp_uuid'))
            .add_cte(removed, added))


def _mysql(count):
    """The claim's locking read (which also compares the traits), and
    what follows it in the same round trip: the increment when the
    generation is the one named and the traits differ, whether it
    changed the row, the removal and the addition (only if it did)."""
    def named(prefix):
        return [sa.bindparam('%sid_%d' % (prefix, number))
                for number in range(count)]

    def is_named(prefix):
        return lambda column: column.in_(named(prefix))
    read = (sa.select(RP.c.id, RP.c.generation,
                      _differs(RP.c.id, is_named(''),
                               sa.literal_column(str(count)))
                      .label('differs'))
            .where(RP.c.uuid == sa.bindparam('uuid')).with_for_update())
    provider_id = (sa.select(RP.c.id)
                   .where(RP.c.uuid == sa.bindparam('then_uuid'))
                   .scalar_subquery())
    claimed = sa.literal_column(_CLAIMED_FLAG) > sa.literal_column('0')
    increment = (
        sa.update(RP)
        .where(RP.c.uuid == sa.bindparam('then_uuid'),
               RP.c.generation == sa.bindparam('then_expected'),
               _differs(RP.c.id, is_named('then_'),
                        sa.literal_column(str(count))))
        .values(generation=RP.c.generation + sa.literal_column('1'),
                updated_at=sa.bindparam('then_now')))
    removal = sa.delete(RPT).where(
        RPT.c.resource_provider_id == provider_id,
        RPT.c.trait_id.not_in(named('then_')), claimed)
    # The ids as given (not joined with the traits table): one that is
    # not a trait's breaks the foreign key, as on PostgreSQL.
    wanted = sa.union_all(*[sa.select(value.label('id'))
                            for value in named('then_')]).subquery('wanted')
    addition = sa.insert(RPT).from_select(
        ['trait_id', 'resource_provider_id', 'created_at'],
        sa.select(wanted.c.id, RP.c.id, sa.bindparam('then_now'))
        .select_from(wanted.join(RP, RP.c.uuid == sa.bindparam('then_uuid')))
        .where(wanted.c.id.not_in(sa.select(RPT.c.trait_id).where(
                   RPT.c.resource_provider_id == RP.c.id)),
               claimed))
    return read, (increment, sa.text('SET %s = ROW_COUNT()' % _CLAIMED_FLAG),
                  removal, addition)


def _statement(conn, count):
    postgres = conn.dialect.name == 'postgresql'
    key = (conn.dialect.name, None if postgres else count)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = (_postgresql() if postgres
                                        else _mysql(count))
    return statement


def write(conn, uuid, generation, ids, conflict_message):
    """Make the standard traits ``ids`` ({name: id}) exactly those of the
    provider at ``uuid``, claimed at ``generation``, as the whole of the
    transaction, in one round trip that commits.  Answers (provider,
    sorted names); raises ResourceProviderNotFound or
    ConcurrentUpdateDetected."""
    now = sql.utcnow_as_stored(conn)
    values = sorted(ids.values())
    if conn.dialect.name == 'postgresql':
        row = sql.execute(conn, _statement(conn, len(values)), {
            'rp_uuid': uuid, 'expected': generation, 'now': now,
            'ids': '{%s}' % ','.join(map(str, values)),
            'count': len(values)}, last=True).first()
        claimed = row is not None and row.claimed_generation is not None
        if claimed:
            now = row.claimed_updated_at
    else:
        read, then = _statement(conn, len(values))
        params = {'uuid': uuid}
        then_params = {'then_uuid': uuid, 'then_expected': generation,
                       'then_now': now}
        for number, trait_id in enumerate(values):
            params['id_%d' % number] = then_params[
                'then_id_%d' % number] = trait_id
        row = sql.execute(conn, read, params, then=(then, then_params),
                          last=True).first()
        # The read locked the row: the increment followed what it saw.
        claimed = (row is not None and row.generation == generation
                   and bool(row.differs))
    if row is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    if claimed:
        provider = rp.ResourceProvider.brief(row.id, rp.stored_uuid(uuid),
                                             generation + 1, updated_at=now)
    elif row.generation == generation and not row.differs:
        # Already the provider's traits: nothing written.
        provider = rp.ResourceProvider.brief(row.id, rp.stored_uuid(uuid),
                                             generation)
    else:
        # Another generation, or (PostgreSQL) a claim that waited for a
        # concurrent writer and found another generation after it.
        raise errors.ConcurrentUpdateDetected(conflict_message)
    return provider, sorted(ids)
