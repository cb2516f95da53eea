"""Allocations: writing them under capacity rules, and reading them.

``replace`` is the one write path (PUT and POST /allocations, and the
reshaper).  Inside the caller's transaction it:

1. locks each consumer's row (in uuid order), creating new consumers,
   and checks/increments consumer generations when asked to;
2. locks every provider that receives allocations (in id order) -- the
   same row lock a provider's generation update takes, so concurrent
   writers of a provider's inventory or allocations are serialised and
   deadlock-free;
3. deletes the consumers' old allocations, inserts the new ones, and only
   then checks capacity by reading usage *after* taking the locks, so the
   check sees every committed claim and this request's own changes;
4. bumps the generation of each provider that received allocations (and
   of each provider an empty set took a consumer's allocations from) and
   removes consumers left with none.

Any failure raises before commit and the caller's transaction rolls
everything back.
"""

import collections
import dataclasses

import sqlalchemy as sa

from placement import errors
from placement.db import sql
from placement.db import tables
from placement.objects import consumer as consumer_obj
from placement.objects import resource_class
from placement.objects import resource_provider as rp

ALLOC = tables.allocations
INV = tables.inventories
RP = tables.resource_providers

# ``generation`` value meaning "do not check the consumer generation".
UNCHECKED = object()


@dataclasses.dataclass
class ConsumerAllocations:
    """What one consumer should hold after the write.

    ``allocations`` maps provider uuid to {resource class name: amount};
    empty means "remove all of this consumer's allocations".
    ``consumer_type`` of ``...`` leaves an existing consumer's type alone.
    """
    consumer_uuid: str
    project_id: str
    user_id: str
    allocations: dict
    generation: object = UNCHECKED
    consumer_type: object = ...


def _lock_providers(conn, uuids):
    """({uuid: id} of the providers receiving allocations, their rows
    locked (id order) and their generations incremented, {the uuids of
    those that do not exist})."""
    uuids = set(uuids)
    if not uuids:
        return {}, set()
    now = sql.utcnow()
    if conn.dialect.name == 'postgresql':
        found = dict(sql.execute(conn, _LOCK_AND_BUMP, {
            'uuids': sorted(uuids), 'now': now}).all())
    else:
        found = dict(sql.execute(conn, _LOCK,
                                 {'uuids': sorted(uuids)}).all())
        if found:
            sql.execute(conn, _BUMP,
                        {'ids': sorted(found.values()), 'now': now})
    return found, uuids - set(found)


_LOCK = (sa.select(RP.c.uuid, RP.c.id)
         .where(RP.c.uuid.in_(sa.bindparam('uuids', expanding=True)))
         .order_by(RP.c.id).with_for_update())
_BUMP = (sa.update(RP).where(RP.c.id.in_(sa.bindparam('ids', expanding=True)))
         .values(generation=RP.c.generation + 1,
                 updated_at=sa.bindparam('now')))
# PostgreSQL: lock, bump and learn the ids in one statement, taking each
# provider's advisory lock as a claim does, so that reads of their
# generations wait for this write too (``rp.claimant_postgresql``).
_LOCK_AND_BUMP = (
    sa.update(RP).where(RP.c.uuid.in_(sa.bindparam('uuids', expanding=True)),
                        rp.claimant_postgresql(RP.c.uuid))
    .values(generation=RP.c.generation + 1, updated_at=sa.bindparam('now'))
    .returning(RP.c.uuid, RP.c.id))


def _check_generation(existing, wanted):
    if wanted is UNCHECKED:
        return
    if existing is None and wanted is not None:
        raise errors.ConcurrentUpdateDetected(
            'consumer generation conflict - expected null but got %s'
            % wanted)
    if existing is not None and existing.generation != wanted:
        raise errors.ConcurrentUpdateDetected(
            'consumer generation conflict - expected %s but got %s'
            % (existing.generation, wanted))


# Each inventory of some providers with what is allocated against it,
# read after the locks (and after this request removed its consumers'
# old allocations).
_INVENTORY_AND_USAGE = sa.select(
    INV.c.resource_provider_id, INV.c.resource_class_id, INV.c.total,
    INV.c.reserved, INV.c.min_unit, INV.c.max_unit, INV.c.step_size,
    INV.c.allocation_ratio,
    sa.select(sa.func.coalesce(sa.func.sum(ALLOC.c.used), 0))
    .where(ALLOC.c.resource_provider_id == INV.c.resource_provider_id,
           ALLOC.c.resource_class_id == INV.c.resource_class_id)
    .scalar_subquery().label('used'),
).where(INV.c.resource_provider_id.in_(
    sa.bindparam('provider_ids', expanding=True)))


def _check_capacity(conn, wanted, removed, provider_uuids, class_names):
    """Raise when an allocation breaks inventory rules.

    ``wanted`` lists the (provider id, class id, amount) of each
    allocation, in the request's order; ``removed`` maps (provider id,
    class id) to what the request's consumers held there before (already
    deleted).  A provider may end above capacity only if this request did
    not add to its usage (it is reducing an overage).

    The faults are found in OpenStack Placement's order, so that a
    request with several is refused for the same one: first the
    providers with no inventory of any class the request names (named
    together, with every class), then each allocation in turn, against
    the sum of the amounts asked of its inventory so far.
    """
    provider_ids = sorted({p for p, _, _ in wanted})
    inventory = {
        (row.resource_provider_id, row.resource_class_id): row
        for row in sql.execute(conn, _INVENTORY_AND_USAGE,
                               {'provider_ids': provider_ids})}
    # (The classes in the order a Python set of their ids, made in the
    # request's order, gives: the order OpenStack Placement names them.)
    class_ids = set([c for _, c, _ in wanted])
    stocked = {p for p, c in inventory if c in class_ids}
    bare = [p for p in dict.fromkeys(p for p, _, _ in wanted)
            if p not in stocked]
    if bare:
        raise errors.InvalidInventory(
            "Inventory for '%s' on resource provider '%s' invalid." % (
                ', '.join(class_names[c] for c in class_ids),
                ', '.join(provider_uuids[p] for p in bare)))
    asked = collections.Counter()
    for provider_id, class_id, amount in wanted:
        key = (provider_id, class_id)
        rc = class_names[class_id]
        rp_uuid = provider_uuids[provider_id]
        inv = inventory.get(key)
        if inv is None:
            raise errors.InvalidInventory(
                "Inventory for '%s' on resource provider '%s' invalid."
                % (rc, rp_uuid))
        if (amount < inv.min_unit or amount > inv.max_unit
                or amount % inv.step_size):
            raise errors.InvalidInventory(
                "Unable to create allocation for '%s' on resource "
                "provider '%s'. The requested amount would violate "
                "inventory constraints." % (rc, rp_uuid))
        asked[key] += amount
        capacity = int((inv.total - inv.reserved) * inv.allocation_ratio)
        others = int(inv.used)
        after = others + asked[key]
        before = others + removed.get(key, 0)
        if after > capacity and after > before:
            raise errors.InvalidInventory(
                "Unable to create allocation for '%s' on resource provider "
                "'%s'. The requested amount would exceed the capacity."
                % (rc, rp_uuid))


def _delete_old(conn, consumer_uuids):
    """Delete the allocations of ``consumer_uuids``; {(provider id, class
    id): amount} of what they held."""
    removed = collections.Counter()
    if not consumer_uuids:
        return removed
    params = {'uuids': sorted(consumer_uuids)}
    if conn.dialect.name in ('postgresql', 'sqlite'):
        rows = sql.execute(conn, _DELETE_RETURNING, params).all()
    else:
        rows = sql.execute(conn, _HELD, params).all()
        if rows:
            sql.execute(conn, _DELETE, params)
    for provider_id, class_id, used in rows:
        removed[provider_id, class_id] += used
    return removed


_PROVIDERS_HELD = sa.select(RP.c.uuid).distinct().select_from(
    ALLOC.join(RP, RP.c.id == ALLOC.c.resource_provider_id)
).where(ALLOC.c.consumer_id.in_(sa.bindparam('uuids', expanding=True)))
_HELD = sa.select(
    ALLOC.c.resource_provider_id, ALLOC.c.resource_class_id, ALLOC.c.used
).where(ALLOC.c.consumer_id.in_(sa.bindparam('uuids', expanding=True)))
_DELETE = sa.delete(ALLOC).where(
    ALLOC.c.consumer_id.in_(sa.bindparam('uuids', expanding=True)))
_DELETE_RETURNING = _DELETE.returning(
    ALLOC.c.resource_provider_id, ALLOC.c.resource_class_id, ALLOC.c.used)
# inline: no primary key read back (it can travel with the COMMIT).
_INSERT = sa.insert(ALLOC).inline()


def _consumer(conn, request):
    """The request's consumer, locked, its generation checked: (consumer,
    True) for one created now (at generation 1), (consumer, False) for
    an existing one (its owner updated, its generation still to bump)."""
    if request.generation is None:
        # A new consumer, says the client: try that first.
        try:
            return consumer_obj.create(
                conn, request.consumer_uuid, request.project_id,
                request.user_id, _type(request), generation=1), True
        except errors.ConcurrentUpdateDetected:
            existing = consumer_obj.get(conn, request.consumer_uuid,
                                        for_update=True)
            if existing is None:
                raise
    else:
        existing = consumer_obj.get(conn, request.consumer_uuid,
                                    for_update=True)
    _check_generation(existing, request.generation)
    if existing is None:
        return consumer_obj.create(
            conn, request.consumer_uuid, request.project_id,
            request.user_id, _type(request), generation=1), True
    consumer_obj.update_owner(conn, existing, request.project_id,
                              request.user_id, request.consumer_type)
    return existing, False


def _type(request):
    return None if request.consumer_type is ... else request.consumer_type


def replace(conn, requests, last=False):
    """Make each request's consumer hold exactly its allocations.
    ``last``: this is the transaction's last work (``sql.execute``)."""
    in_order = list(requests)
    requests = sorted(in_order, key=lambda r: r.consumer_uuid)
    providers = {uuid for r in requests for uuid in r.allocations}
    emptied = [r.consumer_uuid for r in requests if not r.allocations]
    if emptied:
        # Providers losing a consumer's allocations to an empty set count
        # as written (their generations change), as in OpenStack
        # Placement; a DELETE of the allocations leaves them as they are.
        providers.update(sql.execute(conn, _PROVIDERS_HELD, {
            'uuids': emptied}).scalars())
    provider_ids, missing = _lock_providers(conn, providers)

    # Refusals come in OpenStack Placement's order: a consumer's
    # generation, then a provider that does not exist, then an unknown
    # class, then inventory and capacity (``_check_capacity``).
    existing = []
    for request in requests:
        consumer, created = _consumer(conn, request)
        if not created:
            existing.append(consumer)
    for uuid in dict.fromkeys(uuid for r in in_order
                              for uuid in r.allocations):
        if uuid in missing:
            raise errors.InvalidInput(
                "Allocation for resource provider '%s' that does not "
                "exist." % uuid)
    names = list(dict.fromkeys(rc for r in in_order
                               for res in r.allocations.values()
                               for rc in res))
    try:
        class_ids = resource_class.ids_for_names(conn, names)
    except errors.ResourceClassNotFound:
        # Name the first unknown class the body lists.
        for name in names:
            resource_class.ids_for_names(conn, [name])
        raise
    removed = _delete_old(conn, [c.uuid for c in existing])
    for consumer in existing:
        consumer.increment_generation(conn)

    rows, wanted = [], []
    now = sql.utcnow()
    for request in in_order:
        for rp_uuid, resources in request.allocations.items():
            for rc, amount in resources.items():
                provider_id, class_id = provider_ids[rp_uuid], class_ids[rc]
                wanted.append((provider_id, class_id, amount))
                rows.append({'resource_provider_id': provider_id,
                             'consumer_id': request.consumer_uuid,
                             'resource_class_id': class_id, 'used': amount,
                             'created_at': now})
    if wanted:
        _check_capacity(conn, wanted, removed,
                        {v: k for k, v in provider_ids.items()},
                        {v: k for k, v in class_ids.items()})
    if rows:
        sql.execute(conn, _INSERT, rows, last=last and not emptied)
    consumer_obj.delete_if_unused(conn, emptied, last=last)


def delete_for_consumer(conn, consumer_uuid, last=False):
    """Remove every allocation of a consumer, and the consumer.
    ``last``: this is the transaction's last work (``sql.execute``)."""
    consumer_obj.lock(conn, consumer_uuid)
    result = sql.execute(conn, _DELETE, {'uuids': [consumer_uuid]})
    if not result.rowcount:
        raise errors.NotFound(
            "No allocations for consumer '%s'" % consumer_uuid)
    consumer_obj.delete_if_unused(conn, [consumer_uuid], last=last)


def for_consumer(conn, consumer_uuid):
    """(consumer or None, {provider uuid: {'generation', 'resources'}},
    latest change time)."""
    rc = tables.resource_classes
    rows = conn.execute(
        sa.select(RP.c.uuid, RP.c.generation, rc.c.name, ALLOC.c.used,
                  ALLOC.c.created_at, ALLOC.c.updated_at)
        .select_from(ALLOC.join(RP, ALLOC.c.resource_provider_id == RP.c.id)
                     .join(rc, ALLOC.c.resource_class_id == rc.c.id))
        .where(ALLOC.c.consumer_id == consumer_uuid)).all()
    result = {}
    for row in rows:
        entry = result.setdefault(row.uuid, {'generation': row.generation,
                                             'resources': {}})
        entry['resources'][row.name] = row.used
    consumer = consumer_obj.get(conn, consumer_uuid) if rows else None
    return consumer, result, rows


def for_provider(conn, provider_id):
    """({consumer uuid: {class name: used}}, {consumer uuid: consumer
    generation, None for a consumer without a record}, rows)."""
    rc = tables.resource_classes
    consumers = consumer_obj.CONSUMERS
    rows = conn.execute(
        sa.select(ALLOC.c.consumer_id, rc.c.name, ALLOC.c.used,
                  ALLOC.c.created_at, ALLOC.c.updated_at,
                  consumers.c.generation)
        .select_from(ALLOC.join(rc, ALLOC.c.resource_class_id == rc.c.id)
                     .outerjoin(consumers,
                                consumers.c.uuid == ALLOC.c.consumer_id))
        .where(ALLOC.c.resource_provider_id == provider_id)).all()
    result, generations = {}, {}
    for row in rows:
        result.setdefault(row.consumer_id, {})[row.name] = row.used
        generations[row.consumer_id] = row.generation
    return result, generations, rows
