"""Provider relations a search needs besides capacity, one query each.

- ``traits_of_interest``: which providers have the traits a search names;
- ``aggregates_of_interest``: which providers are in the aggregates it
  names;
- ``sharing_anchors``: the trees each sharing provider serves (the roots
  of every provider sharing an aggregate with it, its own root included);
- ``matching_providers``: providers satisfying a group's traits,
  aggregates and tree alone (for groups that ask for no resources);
- ``parents``: the parent of every provider in some trees.

Results are dicts of sets keyed by provider id.
"""

import collections

import sqlalchemy as sa

from placement.db import tables
from placement.objects import provider_filters
from placement.objects.candidates import capacity

RP = tables.resource_providers
RPT = tables.resource_provider_traits
RPA = tables.resource_provider_aggregates


def _grouped(rows):
    result = collections.defaultdict(set)
    for key, value in rows:
        result[key].add(value)
    return result


# Statements built once; ``ids`` is an expanding list.
_IDS = sa.bindparam('ids', expanding=True)
_TRAITS = (sa.select(RPT.c.resource_provider_id, RPT.c.trait_id)
           .where(RPT.c.trait_id.in_(_IDS)))
_AGGREGATES = (sa.select(RPA.c.resource_provider_id, RPA.c.aggregate_id)
               .where(RPA.c.aggregate_id.in_(_IDS)))
_MINE = RPA.alias('mine')
_THEIRS = RPA.alias('theirs')
_ANCHORS = (sa.select(_MINE.c.resource_provider_id, RP.c.root_provider_id)
            .select_from(
                _MINE.join(_THEIRS,
                           _THEIRS.c.aggregate_id == _MINE.c.aggregate_id)
                .join(RP, RP.c.id == _THEIRS.c.resource_provider_id))
            .where(_MINE.c.resource_provider_id.in_(_IDS))
            .distinct())
_PARENTS = (sa.select(RP.c.id, RP.c.parent_provider_id)
            .where(RP.c.root_provider_id.in_(_IDS)))


def _by_ids(conn, statement, ids):
    return conn.execute(statement, {'ids': sorted(ids)})


def traits_of_interest(conn, trait_ids):
    """{provider id: {trait id}} restricted to ``trait_ids``."""
    if not trait_ids:
        return {}
    return _grouped(_by_ids(conn, _TRAITS, trait_ids))


def aggregates_of_interest(conn, aggregate_ids):
    """{provider id: {aggregate id}} restricted to ``aggregate_ids``."""
    if not aggregate_ids:
        return {}
    return _grouped(_by_ids(conn, _AGGREGATES, aggregate_ids))


def sharing_anchors(conn, sharing_ids):
    """{sharing provider id: {root ids of the trees it serves}}."""
    if not sharing_ids:
        return {}
    return _grouped(_by_ids(conn, _ANCHORS, sharing_ids))


def matching_providers(conn, group):
    """[(id, root id, sharing)] of the providers that satisfy ``group``'s
    traits, aggregates and tree by themselves."""
    query = sa.select(RP.c.id, RP.c.root_provider_id,
                      capacity.sharing_flag(RP.c.id))
    for any_of in group.required_traits:
        query = query.where(provider_filters.has_any_trait(
            RP.c.id, sorted(any_of)))
    if group.forbidden_traits:
        query = query.where(sa.not_(provider_filters.has_any_trait(
            RP.c.id, sorted(group.forbidden_traits))))
    for any_of in group.member_of:
        query = query.where(provider_filters.member_of_any(
            RP.c.id, sorted(any_of)))
    if group.forbidden_aggregates:
        query = query.where(sa.not_(provider_filters.member_of_any(
            RP.c.id, sorted(group.forbidden_aggregates))))
    if group.tree_root is not None:
        query = query.where(RP.c.root_provider_id == group.tree_root)
    return [(row.id, row.root_provider_id, bool(row.sharing))
            for row in conn.execute(query.order_by(RP.c.id))]


def parents(conn, root_ids):
    """{provider id: parent id or None} for every provider in the trees
    rooted at ``root_ids``."""
    if not root_ids:
        return {}
    return dict(_by_ids(conn, _PARENTS, root_ids).all())
