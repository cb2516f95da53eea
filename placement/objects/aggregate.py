"""Aggregates: uuids grouping providers, and provider membership.

Aggregate uuids are stored in their canonical form (lower-case, dashed);
callers normalise what clients send before it reaches this module.
"""

import sqlalchemy as sa

from placement.db import sql
from placement.db import tables

AGG = tables.placement_aggregates
RPA = tables.resource_provider_aggregates

# Statements of the hot paths, built once (building one costs more CPU
# than executing it).
_IDS_BY_UUID = sa.select(AGG.c.uuid, AGG.c.id).where(
    AGG.c.uuid.in_(sa.bindparam('uuids', expanding=True)))
# (uuid, id, False) of the aggregates named, then (None, id, True) of
# those the provider has.
_NAMED_OR_MEMBER = sa.union_all(
    sa.select(AGG.c.uuid, AGG.c.id, sa.false().label('member'))
    .where(AGG.c.uuid.in_(sa.bindparam('uuids', expanding=True))),
    sa.select(sa.null(), RPA.c.aggregate_id, sa.true())
    .where(RPA.c.resource_provider_id == sa.bindparam('provider_id')))
_REMOVE_FROM_PROVIDER = sa.delete(RPA).where(
    RPA.c.resource_provider_id == sa.bindparam('provider_id'),
    RPA.c.aggregate_id.in_(sa.bindparam('aggregate_ids', expanding=True)))
# inline: no primary key read back (it can travel with the COMMIT).
_ADD_TO_PROVIDER = sa.insert(RPA).inline()


def ids_by_uuid(conn, uuids):
    """{uuid: id} of the known aggregates among ``uuids``."""
    uuids = set(uuids)
    if not uuids:
        return {}
    return dict(conn.execute(_IDS_BY_UUID, {'uuids': sorted(uuids)}).all())


def _create(conn, uuids):
    """{uuid: id} for ``uuids`` that were not found just now: insert them
    (unless a concurrent request just did: that one is looked up) and
    learn their ids."""
    if not uuids:
        return {}
    created = dict(sql.insert_ignore(
        conn, AGG, [{'uuid': u} for u in sorted(uuids)], ['uuid'],
        returning=(AGG.c.uuid, AGG.c.id)) or ())
    created.update(ids_by_uuid(conn, set(uuids) - set(created)))
    return created


def replace(conn, provider_id, uuids, last=False, current=None, known=None):
    """Make ``uuids`` exactly the aggregates of the provider.  ``last``:
    this is the transaction's last work (``sql.execute``); ``current``:
    the provider's aggregates ({id: uuid}) when the caller has just read
    them under the provider's lock, and ``known``: {uuid: id} of those
    among ``uuids`` that existed then (when it read that too)."""
    uuids = set(uuids)
    if current is None:
        # One query answers both "which of these exist" and "which does
        # the provider have now".
        current, known = set(), {}
        for agg_uuid, agg_id, member in conn.execute(_NAMED_OR_MEMBER, {
                'provider_id': provider_id, 'uuids': sorted(uuids)}):
            if member:
                current.add(agg_id)
            else:
                known[agg_uuid] = agg_id
    else:
        named = known
        known = {agg_uuid: agg_id for agg_id, agg_uuid in current.items()}
        if named is None:
            named = ids_by_uuid(conn, uuids - set(known))
        known.update(named)
        current = set(current)
    wanted = {known[u] for u in uuids if u in known}
    # Only aggregates never seen before need more.
    wanted.update(_create(conn, uuids - set(known)).values())
    gone = current - wanted
    new = wanted - current
    if gone:
        sql.execute(conn, _REMOVE_FROM_PROVIDER, {
            'provider_id': provider_id, 'aggregate_ids': sorted(gone)},
            last=last and not new)
    if new:
        now = sql.utcnow()
        sql.execute(conn, _ADD_TO_PROVIDER, [
            {'resource_provider_id': provider_id, 'aggregate_id': a,
             'created_at': now} for a in sorted(new)], last=last)
