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
_UUIDS_FOR_PROVIDER = (
    sa.select(AGG.c.uuid)
    .select_from(RPA.join(AGG, RPA.c.aggregate_id == AGG.c.id))
    .where(RPA.c.resource_provider_id == sa.bindparam('provider_id')))
_IDS_BY_UUID = sa.select(AGG.c.uuid, AGG.c.id).where(
    AGG.c.uuid.in_(sa.bindparam('uuids', expanding=True)))
_IDS_FOR_PROVIDER = sa.select(RPA.c.aggregate_id).where(
    RPA.c.resource_provider_id == sa.bindparam('provider_id'))
_REMOVE_FROM_PROVIDER = sa.delete(RPA).where(
    RPA.c.resource_provider_id == sa.bindparam('provider_id'),
    RPA.c.aggregate_id.in_(sa.bindparam('aggregate_ids', expanding=True)))
_ADD_TO_PROVIDER = sa.insert(RPA)


def uuids_for_provider(conn, provider_id):
    return sorted(conn.execute(
        _UUIDS_FOR_PROVIDER, {'provider_id': provider_id}).scalars())


def ids_by_uuid(conn, uuids):
    """{uuid: id} of the known aggregates among ``uuids``."""
    uuids = set(uuids)
    if not uuids:
        return {}
    return dict(conn.execute(_IDS_BY_UUID, {'uuids': sorted(uuids)}).all())


def ensure(conn, uuids):
    """{uuid: id} for ``uuids``, creating the aggregates that are new."""
    uuids = set(uuids)
    if not uuids:
        return {}
    # Most aggregates named already exist: insert only the others.
    found = ids_by_uuid(conn, uuids)
    missing = uuids - set(found)
    if missing:
        sql.insert_ignore(conn, AGG, [{'uuid': u} for u in sorted(missing)],
                          ['uuid'])
        found.update(ids_by_uuid(conn, missing))
    return found


def replace(conn, provider_id, uuids):
    """Make ``uuids`` exactly the aggregates of the provider."""
    wanted = set(ensure(conn, uuids).values())
    current = set(conn.execute(
        _IDS_FOR_PROVIDER, {'provider_id': provider_id}).scalars())
    gone = current - wanted
    if gone:
        conn.execute(_REMOVE_FROM_PROVIDER, {'provider_id': provider_id,
                                             'aggregate_ids': sorted(gone)})
    new = wanted - current
    if new:
        now = sql.utcnow()
        conn.execute(_ADD_TO_PROVIDER, [
            {'resource_provider_id': provider_id, 'aggregate_id': a,
             'created_at': now} for a in sorted(new)])
