"""Online data migrations: repairs of rows that older releases of
OpenStack Placement left behind, which this service never writes.

``placement-manage db online_data_migrations`` runs them in batches
while the service serves.  Each migration is ``(conn, limit, conf) ->
(found, done)``: how many rows still need it (before this batch) and how
many this batch repaired, at most ``limit``.  Running one where nothing
is left finds 0 and does nothing.
"""

import sqlalchemy as sa

from placement.db import tables
from placement.objects import consumer as consumer_obj

RP = tables.resource_providers
ALLOCATIONS = tables.allocations
CONSUMERS = tables.consumers


def missing_roots(conn):
    """How many providers have no root provider recorded."""
    return conn.execute(sa.select(sa.func.count()).where(
        RP.c.root_provider_id.is_(None))).scalar()


def set_root_provider_ids(conn, limit, conf):
    """Providers without a root: a provider with no parent is its own
    root, any other has its parent's."""
    found = missing_roots(conn)
    rows = conn.execute(
        sa.select(RP.c.id, RP.c.parent_provider_id)
        .where(RP.c.root_provider_id.is_(None))
        .order_by(RP.c.id).limit(limit)).all()
    for provider_id, parent_id in rows:
        conn.execute(sa.update(RP).where(RP.c.id == provider_id).values(
            root_provider_id=_root_of(conn, provider_id, parent_id)))
    return found, len(rows)


def _root_of(conn, provider_id, parent_id):
    seen = {provider_id}
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        provider_id = parent_id
        parent_id, root_id = conn.execute(
            sa.select(RP.c.parent_provider_id, RP.c.root_provider_id)
            .where(RP.c.id == parent_id)).one()
        if root_id is not None:
            return root_id
    return provider_id


# The consumer uuids of allocations that have no consumer row.
_LACKING = (sa.select(ALLOCATIONS.c.consumer_id).distinct()
            .select_from(ALLOCATIONS.outerjoin(
                CONSUMERS, CONSUMERS.c.uuid == ALLOCATIONS.c.consumer_id))
            .where(CONSUMERS.c.id.is_(None)))


def incomplete_consumers(conn):
    """How many consumers have allocations but no record."""
    return conn.execute(sa.select(sa.func.count()).select_from(
        _LACKING.subquery())).scalar()


def create_incomplete_consumers(conn, limit, conf):
    """Allocations whose consumer has no row: the consumer is created,
    owned by the configured ``incomplete_consumer_project_id`` and
    ``incomplete_consumer_user_id``, as a write without owners would."""
    found = incomplete_consumers(conn)
    uuids = conn.execute(_LACKING.order_by(ALLOCATIONS.c.consumer_id)
                         .limit(limit)).scalars().all()
    for uuid in uuids:
        consumer_obj.create(conn, uuid,
                            conf.placement.incomplete_consumer_project_id,
                            conf.placement.incomplete_consumer_user_id)
    return found, len(uuids)


# In the order they run.
MIGRATIONS = (set_root_provider_ids, create_incomplete_consumers)
