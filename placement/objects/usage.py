"""Usage totals: per provider, and per project/user (and consumer type)."""

import collections

import sqlalchemy as sa

from placement.db import tables

ALLOC = tables.allocations
INV = tables.inventories
RC = tables.resource_classes
CONSUMERS = tables.consumers
PROJECTS = tables.projects
USERS = tables.users
TYPES = tables.consumer_types


def for_provider(conn, provider_id):
    """{class name: used} for every class the provider has inventory of
    (0 when nothing is allocated)."""
    used = (sa.select(ALLOC.c.resource_class_id,
                      sa.func.sum(ALLOC.c.used).label('used'))
            .where(ALLOC.c.resource_provider_id == provider_id)
            .group_by(ALLOC.c.resource_class_id).subquery())
    rows = conn.execute(
        sa.select(RC.c.name, sa.func.coalesce(used.c.used, 0))
        .select_from(INV.join(RC, INV.c.resource_class_id == RC.c.id)
                     .outerjoin(used, used.c.resource_class_id ==
                                INV.c.resource_class_id))
        .where(INV.c.resource_provider_id == provider_id))
    return {name: int(total) for name, total in rows}


def _owner_filter(query, project_id, user_id):
    query = query.where(PROJECTS.c.external_id == project_id)
    if user_id is not None:
        query = query.where(USERS.c.external_id == user_id)
    return query


def _joined():
    return (ALLOC.join(CONSUMERS, ALLOC.c.consumer_id == CONSUMERS.c.uuid)
            .join(PROJECTS, CONSUMERS.c.project_id == PROJECTS.c.id)
            .join(USERS, CONSUMERS.c.user_id == USERS.c.id)
            .join(RC, ALLOC.c.resource_class_id == RC.c.id))


def for_project(conn, project_id, user_id=None):
    """{class name: used} over the consumers of a project (and user)."""
    query = (sa.select(RC.c.name, sa.func.sum(ALLOC.c.used))
             .select_from(_joined()).group_by(RC.c.name))
    rows = conn.execute(_owner_filter(query, project_id, user_id))
    return {name: int(total) for name, total in rows}


ALL_TYPES = 'all'
UNKNOWN_TYPE = 'unknown'


def for_project_by_type(conn, project_id, user_id=None, consumer_type=None):
    """{type: {'consumer_count': n, class name: used}} for microversion
    1.38.  Consumers without a type are grouped as ``unknown``; asking for
    ``all`` gives one group over every consumer."""
    type_name = TYPES.c.name
    query = (sa.select(type_name, RC.c.name, sa.func.sum(ALLOC.c.used))
             .select_from(_joined().outerjoin(
                 TYPES, CONSUMERS.c.consumer_type_id == TYPES.c.id))
             .group_by(type_name, RC.c.name))
    query = _owner_filter(query, project_id, user_id)
    if consumer_type == UNKNOWN_TYPE:
        query = query.where(CONSUMERS.c.consumer_type_id.is_(None))
    elif consumer_type not in (None, ALL_TYPES):
        query = query.where(type_name == consumer_type)
    counts = _consumer_counts(conn, project_id, user_id, consumer_type)
    result = collections.defaultdict(dict)
    for group, rc, used in conn.execute(query):
        key = ALL_TYPES if consumer_type == ALL_TYPES else \
            (group or UNKNOWN_TYPE)
        result[key][rc] = result[key].get(rc, 0) + int(used)
    for key in result:
        result[key]['consumer_count'] = counts.get(key, 0)
    return dict(result)


def _consumer_counts(conn, project_id, user_id, consumer_type):
    """{type key: number of distinct consumers holding allocations}.
    Only the project's (and user's) allocations are read."""
    query = (sa.select(TYPES.c.name,
                       sa.func.count(sa.distinct(CONSUMERS.c.id)))
             .select_from(_joined().outerjoin(
                 TYPES, CONSUMERS.c.consumer_type_id == TYPES.c.id))
             .group_by(TYPES.c.name))
    counts = {}
    for name, count in conn.execute(_owner_filter(query, project_id,
                                                  user_id)):
        key = name or UNKNOWN_TYPE
        counts[key] = counts.get(key, 0) + count
    if consumer_type == ALL_TYPES:
        return {ALL_TYPES: sum(counts.values())}
    return counts
