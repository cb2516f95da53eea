"""Inventories: what a resource provider offers, one record per class.

Every function that writes takes a provider whose row the caller has
locked in the same transaction (``resource_provider.get_by_uuid(...,
for_update=True)``) and bumps its generation with
``provider.increment_generation`` before changing anything, so writers
of one provider's inventory and allocations are serialised and the
allocation checks below read settled data.

Rules enforced here:

- capacity, ``int((total - reserved) * allocation_ratio)``, must be
  positive (or, from microversion 1.26, at least zero);
- an inventory that has allocations against it cannot be removed.
  Shrinking one below its current usage is allowed, as in OpenStack
  Placement (the provider is then over capacity and only accepts
  allocations that reduce its usage); it is logged as a warning.
"""

import dataclasses
import datetime
import logging
import math

import sqlalchemy as sa

from placement import errors
from placement.db import sql
from placement.db import tables
from placement.objects import resource_class

LOG = logging.getLogger(__name__)

INV = tables.inventories
ALLOC = tables.allocations
RC = tables.resource_classes

# Largest value of the integer columns, and of a single precision float
# (the allocation_ratio column is FLOAT on MySQL).
MAX_INT = 2147483647
MAX_FLOAT = 3.40282e+38

DEFAULTS = {'reserved': 0, 'min_unit': 1, 'max_unit': MAX_INT,
            'step_size': 1, 'allocation_ratio': 1.0}
FIELDS = ('total', 'reserved', 'min_unit', 'max_unit', 'step_size',
          'allocation_ratio')


@dataclasses.dataclass
class Inventory:
    resource_class: str
    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = MAX_INT
    step_size: int = 1
    allocation_ratio: float = 1.0
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    @classmethod
    def from_request(cls, resource_class_name, fields):
        """An inventory from request fields, defaults for missing ones."""
        values = dict(DEFAULTS)
        values.update((k, v) for k, v in fields.items() if k in FIELDS)
        return cls(resource_class=resource_class_name, **values)

    @property
    def capacity(self):
        return int((self.total - self.reserved) * self.allocation_ratio)

    def values(self):
        """The column values of this record."""
        return {name: getattr(self, name) for name in FIELDS}


def check_capacity(provider_uuid, inventories, reserved_may_equal_total):
    """Raise InvalidInventoryCapacity for an inventory that leaves no
    usable capacity.

    Before 1.26 capacity must be above zero (reserved below total); from
    1.26 (``reserved_may_equal_total``) zero capacity is allowed.
    """
    for inv in inventories:
        ratio = inv.allocation_ratio
        if not math.isfinite(ratio):
            raise errors.InvalidInventoryCapacity(
                "Invalid inventory for '%s' on resource provider '%s'. "
                "The allocation_ratio must be a finite number."
                % (inv.resource_class, provider_uuid))
        capacity = inv.capacity
        if capacity > 0 or (capacity == 0 and reserved_may_equal_total):
            continue
        comparison = ('greater than' if reserved_may_equal_total
                      else 'greater than or equal to')
        raise errors.InvalidInventoryCapacity(
            "Invalid inventory for '%s' on resource provider '%s'. The "
            "reserved value is %s total."
            % (inv.resource_class, provider_uuid, comparison))


def _select(provider_id):
    return (sa.select(RC.c.name.label('resource_class'),
                      *(INV.c[name] for name in FIELDS),
                      INV.c.created_at, INV.c.updated_at)
            .select_from(INV.join(RC, INV.c.resource_class_id == RC.c.id))
            .where(INV.c.resource_provider_id == provider_id))


def _from_row(row):
    values = dict(row._mapping)
    values['allocation_ratio'] = float(values['allocation_ratio'])
    return Inventory(**values)


# Statements of the hot paths, built once (building one costs more CPU
# than executing it).
_LIST_FOR_PROVIDER = _select(sa.bindparam('provider_id')).order_by(
    INV.c.resource_class_id)
_CLASS_IDS_FOR_PROVIDER = sa.select(INV.c.resource_class_id).where(
    INV.c.resource_provider_id == sa.bindparam('provider_id'))
# inline: no primary key read back (it can travel with the COMMIT).
_INSERT = sa.insert(INV).inline()
# The SET clause comes from the parameters given (the FIELDS).
_UPDATE = sa.update(INV).where(
    INV.c.resource_provider_id == sa.bindparam('provider_id'),
    INV.c.resource_class_id == sa.bindparam('class_id'))


def list_for_provider(conn, provider):
    """The provider's inventories, ordered by resource class id."""
    rows = sql.execute(conn, _LIST_FOR_PROVIDER,
                       {'provider_id': provider.id}).all()
    return [_from_row(r) for r in rows]


def find(conn, provider, class_name):
    """The provider's inventory of ``class_name``, or None."""
    if not resource_class.could_exist(class_name):
        return None
    row = conn.execute(
        _select(provider.id).where(RC.c.name == class_name)).first()
    return _from_row(row) if row is not None else None


def _used(conn, provider_id, class_ids):
    """{class id: amount allocated} for the provider's ``class_ids``."""
    if not class_ids:
        return {}
    rows = conn.execute(
        sa.select(ALLOC.c.resource_class_id, sa.func.sum(ALLOC.c.used))
        .where(ALLOC.c.resource_provider_id == provider_id,
               ALLOC.c.resource_class_id.in_(class_ids))
        .group_by(ALLOC.c.resource_class_id)).all()
    return {class_id: int(used) for class_id, used in rows if used}


def _refuse_removal_in_use(conn, provider, class_ids):
    """Raise InventoryInUse when any of ``class_ids`` has allocations on
    the provider."""
    used = _used(conn, provider.id, class_ids)
    if used:
        names = resource_class.names_for_ids(conn, used)
        in_use = ', '.join(names[class_id] for class_id in class_ids
                           if class_id in used)
        raise errors.InventoryInUse(
            "Inventory for '%s' on resource provider '%s' in use."
            % (in_use, provider.uuid))


def _warn_over_capacity(conn, provider, by_id):
    """Log the inventories that end below their current usage."""
    used = _used(conn, provider.id, list(by_id))
    for class_id, amount in used.items():
        inv = by_id[class_id]
        if amount > inv.capacity:
            LOG.warning(
                'Resource provider %s is now over capacity for %s: '
                '%d used, capacity %d', provider.uuid, inv.resource_class,
                amount, inv.capacity)


def _row(provider, class_id, inv, now=None):
    return dict(inv.values(), resource_provider_id=provider.id,
                resource_class_id=class_id, created_at=now or sql.utcnow())


def _insert(conn, provider, class_id, inv):
    sql.execute(conn, _INSERT, _row(provider, class_id, inv))


def _update_params(provider, class_id, inv, now):
    return dict(inv.values(), provider_id=provider.id, class_id=class_id,
                updated_at=now)


def _update(conn, provider, class_id, inv):
    return sql.execute(conn, _UPDATE, _update_params(
        provider, class_id, inv, sql.utcnow())).rowcount


def add(conn, provider, inv):
    """Add one inventory record; raises ResourceClassNotFound or
    InventoryExists."""
    class_id = resource_class.ids_for_names(
        conn, [inv.resource_class], for_share=True)[inv.resource_class]
    provider.increment_generation(conn)
    exists = conn.execute(
        sa.select(INV.c.id).where(INV.c.resource_provider_id == provider.id,
                                  INV.c.resource_class_id == class_id)
    ).first()
    if exists:
        raise errors.InventoryExists(resource_class=inv.resource_class,
                                     resource_provider=provider.uuid)
    _insert(conn, provider, class_id, inv)
    return find(conn, provider, inv.resource_class)


def update(conn, provider, inv):
    """Replace one existing inventory record; raises
    ResourceClassNotFound or InventoryNotFound."""
    class_id = resource_class.ids_for_names(
        conn, [inv.resource_class], for_share=True)[inv.resource_class]
    provider.increment_generation(conn)
    if not _update(conn, provider, class_id, inv):
        raise errors.InventoryNotFound(resource_class=inv.resource_class)
    _warn_over_capacity(conn, provider, {class_id: inv})
    return find(conn, provider, inv.resource_class)


def delete(conn, provider, class_name):
    """Remove the provider's inventory of ``class_name``; raises
    ResourceClassNotFound, InventoryNotFound or InventoryInUse."""
    class_id = resource_class.ids_for_names(conn, [class_name])[class_name]
    provider.increment_generation(conn)
    _refuse_removal_in_use(conn, provider, [class_id])
    deleted = conn.execute(
        sa.delete(INV).where(INV.c.resource_provider_id == provider.id,
                             INV.c.resource_class_id == class_id)).rowcount
    if not deleted:
        raise errors.InventoryNotFound(resource_class=class_name)


def replace_all(conn, provider, inventories, last=False, current=None):
    """Make ``inventories`` the provider's whole inventory: update the
    classes it keeps, add new ones, remove the others (refusing to remove
    any that has allocations).  Raises ResourceClassNotFound or
    InventoryInUse.  ``last``: this is the transaction's last work
    (``sql.execute``); ``current``: the provider's inventory class ids
    when the caller has just read them under the provider's lock."""
    wanted_ids = resource_class.ids_for_names(
        conn, [inv.resource_class for inv in inventories], for_share=True)
    by_id = {wanted_ids[inv.resource_class]: inv for inv in inventories}
    provider.increment_generation(conn)
    if current is None:
        current = sql.execute(conn, _CLASS_IDS_FOR_PROVIDER,
                              {'provider_id': provider.id}).scalars()
    current = set(current)
    removed = sorted(current - set(by_id))
    _refuse_removal_in_use(conn, provider, removed)
    # Usage does not change here: compare it with the new capacities now.
    _warn_over_capacity(conn, provider, {
        class_id: inv for class_id, inv in by_id.items()
        if class_id in current})
    now = sql.utcnow_as_stored(conn)
    writes, added, result = [], [], []
    if removed:
        writes.append((sa.delete(INV).where(
            INV.c.resource_provider_id == provider.id,
            INV.c.resource_class_id.in_(removed)), None))
    for class_id, inv in sorted(by_id.items()):
        if class_id in current:
            writes.append((_UPDATE, _update_params(provider, class_id, inv,
                                                   now)))
            # What a read would now find (every record kept is rewritten).
            result.append(dataclasses.replace(inv, updated_at=now))
        else:
            added.append(_row(provider, class_id, inv, now))
            result.append(dataclasses.replace(inv, created_at=now))
    if added:
        writes.append((_INSERT, added))
    for number, (statement, params) in enumerate(writes, 1):
        sql.execute(conn, statement, params,
                    last=last and number == len(writes))
    return result
