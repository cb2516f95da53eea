"""SQL conditions selecting providers by aggregates, traits and capacity.

Shared by the provider list and, later, allocation candidates.  Each
function returns conditions on a provider id column.
"""

import sqlalchemy as sa

from placement.db import tables

RPA = tables.resource_provider_aggregates
RPT = tables.resource_provider_traits
INV = tables.inventories
ALLOC = tables.allocations

# Inventory columns are 32-bit integers: no provider can serve more.
MAX_AMOUNT = 2 ** 31 - 1


def member_of_any(id_col, aggregate_ids):
    return id_col.in_(sa.select(RPA.c.resource_provider_id)
                      .where(RPA.c.aggregate_id.in_(aggregate_ids)))


def has_any_trait(id_col, trait_ids):
    return id_col.in_(sa.select(RPT.c.resource_provider_id)
                      .where(RPT.c.trait_id.in_(trait_ids)))


def usage_subquery(rc_id=None):
    """(resource_provider_id, resource_class_id, used) of all allocations,
    or only of those of class ``rc_id``."""
    query = (sa.select(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id,
                       sa.func.sum(ALLOC.c.used).label('used'))
             .group_by(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id))
    if rc_id is not None:
        query = query.where(ALLOC.c.resource_class_id == rc_id)
    return query.subquery()


def has_capacity(id_col, rc_id, amount):
    """The provider has inventory of ``rc_id`` able to take ``amount``
    now: free capacity, min_unit, max_unit and step_size all allow it."""
    if amount > MAX_AMOUNT:
        # Beyond any max_unit; also keeps the literal within the column's
        # range, which SQLite insists on.
        return sa.false()
    usage = usage_subquery(rc_id)
    used = sa.func.coalesce(usage.c.used, 0)
    capacity = (INV.c.total - INV.c.reserved) * INV.c.allocation_ratio
    fits = (sa.select(INV.c.resource_provider_id)
            .select_from(INV.outerjoin(
                usage,
                usage.c.resource_provider_id == INV.c.resource_provider_id))
            .where(INV.c.resource_class_id == rc_id,
                   capacity - used >= amount,
                   INV.c.min_unit <= amount,
                   INV.c.max_unit >= amount,
                   amount % INV.c.step_size == 0))
    return id_col.in_(fits)


def clauses(filters, id_col):
    """Every condition a ``ListFilters`` asks for."""
    for group in filters.member_of:
        yield member_of_any(id_col, group)
    if filters.forbidden_aggregates:
        yield sa.not_(member_of_any(id_col, filters.forbidden_aggregates))
    for group in filters.required_traits:
        yield has_any_trait(id_col, group)
    if filters.forbidden_traits:
        yield sa.not_(has_any_trait(id_col, filters.forbidden_traits))
    for rc_id, amount in filters.resources.items():
        yield has_capacity(id_col, rc_id, amount)
