"""Provider summaries: every provider of some trees, with its place in
the tree, the capacity and usage of each inventory, and its traits.

Two queries whatever the number of trees: providers with their
inventories and usage (outer joins, so providers without inventory are
there too), then traits in trait id order.
"""

import dataclasses

import sqlalchemy as sa

from placement.db import sql
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


def _statements():
    """The two queries, built once; ``roots`` is an expanding list."""
    roots = sa.bindparam('roots', expanding=True)
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
    providers = (
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
    traits = (sa.select(RPT.c.resource_provider_id, TRAITS.c.name)
              .select_from(RPT.join(TRAITS, TRAITS.c.id == RPT.c.trait_id)
                           .join(RP, RP.c.id == RPT.c.resource_provider_id))
              .where(RP.c.root_provider_id.in_(roots))
              .order_by(RPT.c.resource_provider_id, TRAITS.c.id))
    return providers, traits


_PROVIDERS, _TRAITS = _statements()


def load(conn, root_ids, with_traits=True):
    """{provider id: ProviderSummary} of the trees rooted at
    ``root_ids``."""
    if not root_ids:
        return {}
    params = {'roots': sorted(root_ids)}
    summaries = {}
    for (provider_id, uuid, root_id, root_uuid, parent_uuid, rc_name,
         total, reserved, ratio, used) in sql.execute(conn, _PROVIDERS,
                                                      params):
        summary = summaries.get(provider_id)
        if summary is None:
            summary = summaries[provider_id] = ProviderSummary(
                provider_id, uuid, root_id, root_uuid, parent_uuid)
        if rc_name is not None:
            summary.resources[rc_name] = (int((total - reserved) * ratio),
                                          int(used))
    if with_traits:
        for provider_id, name in sql.execute(conn, _TRAITS, params):
            summary = summaries.get(provider_id)
            # (None: the provider joined one of the trees after the
            # first query read them, in a concurrent write.)
            if summary is not None:
                summary.traits.append(name)
    return summaries
