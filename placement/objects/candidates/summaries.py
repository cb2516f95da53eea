"""Provider summaries: every provider of some trees, with its place in
the tree, the capacity and usage of each inventory, and its traits.

Two queries whatever the number of trees: providers with their
inventories and usage (outer joins, so providers without inventory are
there too), then traits in trait id order.
"""

import dataclasses

import sqlalchemy as sa

from placement.db import tables

RP = tables.resource_providers
INV = tables.inventories
ALLOC = tables.allocations
RC = tables.resource_classes
RPT = tables.resource_provider_traits
TRAITS = tables.traits


@dataclasses.dataclass
class ProviderSummary:
    id: int
    uuid: str
    root_id: int
    root_uuid: str
    parent_uuid: str | None
    # {class name: (capacity, used)}
    resources: dict = dataclasses.field(default_factory=dict)
    traits: list = dataclasses.field(default_factory=list)


def load(conn, root_ids, with_traits=True):
    """{provider id: ProviderSummary} of the trees rooted at
    ``root_ids``."""
    if not root_ids:
        return {}
    roots = sorted(root_ids)
    root = RP.alias('root')
    parent = RP.alias('parent')
    in_trees = sa.select(RP.c.id).where(RP.c.root_provider_id.in_(roots))
    usage = (sa.select(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id,
                       sa.func.sum(ALLOC.c.used).label('used'))
             .where(ALLOC.c.resource_provider_id.in_(in_trees))
             .group_by(ALLOC.c.resource_provider_id,
                       ALLOC.c.resource_class_id)
             .subquery())
    query = (
        sa.select(RP.c.id, RP.c.uuid, RP.c.root_provider_id,
                  root.c.uuid.label('root_uuid'),
                  parent.c.uuid.label('parent_uuid'),
                  RC.c.name.label('rc_name'), INV.c.total, INV.c.reserved,
                  INV.c.allocation_ratio,
                  sa.func.coalesce(usage.c.used, 0).label('used'))
        .select_from(
            RP.join(root, root.c.id == RP.c.root_provider_id)
            .outerjoin(parent, parent.c.id == RP.c.parent_provider_id)
            .outerjoin(INV, INV.c.resource_provider_id == RP.c.id)
            .outerjoin(RC, RC.c.id == INV.c.resource_class_id)
            .outerjoin(usage, sa.and_(
                usage.c.resource_provider_id == INV.c.resource_provider_id,
                usage.c.resource_class_id == INV.c.resource_class_id)))
        .where(RP.c.root_provider_id.in_(roots))
        .order_by(RP.c.id, INV.c.resource_class_id))
    summaries = {}
    for row in conn.execute(query):
        summary = summaries.get(row.id)
        if summary is None:
            summary = summaries[row.id] = ProviderSummary(
                row.id, row.uuid, row.root_provider_id, row.root_uuid,
                row.parent_uuid)
        if row.rc_name is not None:
            capacity = int((row.total - row.reserved) * row.allocation_ratio)
            summary.resources[row.rc_name] = (capacity, int(row.used))
    if with_traits:
        traits = (sa.select(RPT.c.resource_provider_id, TRAITS.c.name)
                  .select_from(RPT.join(TRAITS, TRAITS.c.id == RPT.c.trait_id)
                               .join(RP, RP.c.id == RPT.c.resource_provider_id))
                  .where(RP.c.root_provider_id.in_(roots))
                  .order_by(RPT.c.resource_provider_id, TRAITS.c.id))
        for provider_id, name in conn.execute(traits):
            summaries[provider_id].traits.append(name)
    return summaries
