"""Inventories able to serve the requested amounts, read in one query.

For every distinct (resource class, amount, tree) a search asks for, the
query keeps the inventory records that can take the amount now: free
capacity ``(total - reserved) * allocation_ratio - used``, ``min_unit``,
``max_unit`` and ``step_size`` all allow it.  Each row also carries the
provider's root and whether it shares its inventory through aggregates
(trait ``MISC_SHARES_VIA_AGGREGATE``).  The per-group checks are then
done in Python on these rows (``Inventory.fits``).
"""

import dataclasses

import sqlalchemy as sa

from placement.db import tables
from placement.objects import provider_filters

INV = tables.inventories
ALLOC = tables.allocations
RP = tables.resource_providers
RPT = tables.resource_provider_traits
TRAITS = tables.traits

SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE'


class Inventory:
    """One inventory record of a candidate provider, with its usage.
    (A plain slotted class: thousands are built per request.)"""
    __slots__ = ('provider_id', 'resource_class_id', 'total', 'reserved',
                 'min_unit', 'max_unit', 'step_size', 'allocation_ratio',
                 'used')

    def __init__(self, provider_id, resource_class_id, total, reserved,
                 min_unit, max_unit, step_size, allocation_ratio, used):
        self.provider_id = provider_id
        self.resource_class_id = resource_class_id
        self.total = total
        self.reserved = reserved
        self.min_unit = min_unit
        self.max_unit = max_unit
        self.step_size = step_size
        self.allocation_ratio = allocation_ratio
        self.used = used

    @property
    def capacity(self):
        """Usable capacity as provider summaries report it."""
        return int((self.total - self.reserved) * self.allocation_ratio)

    def fits(self, amount):
        """Can this record take ``amount`` more now?"""
        free = (self.total - self.reserved) * self.allocation_ratio - \
            self.used
        return (free >= amount and self.min_unit <= amount <= self.max_unit
                and amount % self.step_size == 0)

    def holds(self, amount):
        """Does ``amount`` (a sum over request groups) still fit, as far as
        total capacity and ``max_unit`` go?"""
        return self.used + amount <= self.capacity and \
            amount <= self.max_unit


@dataclasses.dataclass
class Capacity:
    """The candidate inventory of a search.

    ``by_class`` maps a class id to the list of ``Inventory`` of that
    class; ``roots`` maps every provider seen to its root id, and
    ``sharing`` holds the providers that share via aggregates.
    """
    by_class: dict
    roots: dict
    sharing: set

    def get(self, provider_id, rc_id):
        return self._index.get((provider_id, rc_id))

    def __post_init__(self):
        self._index = {(inv.provider_id, inv.resource_class_id): inv
                       for rows in self.by_class.values() for inv in rows}


def sharing_flag(id_col):
    """A boolean column: the provider has MISC_SHARES_VIA_AGGREGATE."""
    return sa.exists(
        sa.select(RPT.c.resource_provider_id)
        .select_from(RPT.join(TRAITS, TRAITS.c.id == RPT.c.trait_id))
        .where(RPT.c.resource_provider_id == id_col,
               TRAITS.c.name == SHARING_TRAIT)).label('sharing')


def _fits_clause(used, rc_id, amount, tree_root):
    if amount > provider_filters.MAX_AMOUNT:
        return sa.false()
    free = (INV.c.total - INV.c.reserved) * INV.c.allocation_ratio - used
    clause = sa.and_(INV.c.resource_class_id == rc_id,
                     free >= amount,
                     INV.c.min_unit <= amount,
                     INV.c.max_unit >= amount,
                     amount % INV.c.step_size == 0)
    if tree_root is not None:
        clause = sa.and_(clause, RP.c.root_provider_id == tree_root)
    return clause


def load(conn, wanted):
    """The ``Capacity`` for ``wanted``, a set of (class id, amount, tree
    root id or None) triples."""
    if not wanted:
        return Capacity({}, {}, set())
    rc_ids = sorted({rc_id for rc_id, _, _ in wanted})
    usage = (sa.select(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id,
                       sa.func.sum(ALLOC.c.used).label('used'))
             .where(ALLOC.c.resource_class_id.in_(rc_ids))
             .group_by(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id)
             .subquery())
    used = sa.func.coalesce(usage.c.used, 0)
    query = (
        sa.select(INV.c.resource_provider_id, INV.c.resource_class_id,
                  INV.c.total, INV.c.reserved, INV.c.min_unit,
                  INV.c.max_unit, INV.c.step_size, INV.c.allocation_ratio,
                  used.label('used'), RP.c.root_provider_id,
                  sharing_flag(RP.c.id))
        .select_from(
            INV.join(RP, RP.c.id == INV.c.resource_provider_id)
            .outerjoin(usage, sa.and_(
                usage.c.resource_provider_id == INV.c.resource_provider_id,
                usage.c.resource_class_id == INV.c.resource_class_id)))
        .where(sa.or_(*(_fits_clause(used, rc_id, amount, tree)
                        for rc_id, amount, tree in sorted(
                            wanted, key=lambda w: (w[0], w[1], w[2] or 0)))))
        .order_by(INV.c.resource_provider_id, INV.c.resource_class_id))
    by_class, roots, sharing = {}, {}, set()
    for (provider_id, rc_id, total, reserved, min_unit, max_unit, step,
         ratio, used, root_id, shares) in conn.execute(query):
        by_class.setdefault(rc_id, []).append(Inventory(
            provider_id, rc_id, total, reserved, min_unit, max_unit, step,
            ratio, int(used)))
        roots[provider_id] = root_id
        if shares:
            sharing.add(provider_id)
    return Capacity(by_class, roots, sharing)
