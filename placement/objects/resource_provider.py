"""Resource providers, their trees and the generation rule.

The generation rule: a write that changes a provider runs
``increment_generation`` inside its transaction -- one
``UPDATE ... SET generation = generation + 1 WHERE id = :id AND
generation = :expected`` -- and raises ``ConcurrentUpdateDetected`` when
no row matched.  The UPDATE also takes the row lock, so writers of one
provider are serialised until the transaction ends, and a writer that
read an older generation can never succeed.
"""

import dataclasses
import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement import uuids
from placement.db import sql
from placement.db import tables
from placement.objects import aggregate
from placement.objects import provider_filters
from placement.objects import trait

RP = tables.resource_providers
_ROOT = RP.alias('root')
_PARENT = RP.alias('parent')


@dataclasses.dataclass
class ResourceProvider:
    id: int
    uuid: str
    name: str
    generation: int
    root_provider_id: int
    parent_provider_id: int | None
    root_provider_uuid: str
    parent_provider_uuid: str | None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    def increment_generation(self, conn):
        """Compare-and-increment: bump the generation from the value this
        object holds, or raise ConcurrentUpdateDetected."""
        result = conn.execute(_INCREMENT_GENERATION, {
            'id_': self.id, 'expected': self.generation,
            'now': sql.utcnow()})
        if result.rowcount != 1:
            raise errors.ConcurrentUpdateDetected()
        self.generation += 1

    def set_aggregates(self, conn, aggregate_uuids, increment_generation):
        """Replace the provider's aggregates.  With
        ``increment_generation`` (microversion 1.19 on) the generation is
        compared and bumped in the same transaction first."""
        if increment_generation:
            self.increment_generation(conn)
        aggregate.replace(conn, self.id, aggregate_uuids)

    def set_traits(self, conn, trait_ids, current=None):
        """Replace the provider's traits, bumping the generation first.
        ``current``: the trait ids the caller just read, if it did."""
        self.increment_generation(conn)
        trait.replace_for_provider(conn, self.id, trait_ids, current)


normalize_uuid = uuids.normalize


def _select():
    return (sa.select(RP.c.id, RP.c.uuid, RP.c.name, RP.c.generation,
                      RP.c.root_provider_id, RP.c.parent_provider_id,
                      _ROOT.c.uuid.label('root_provider_uuid'),
                      _PARENT.c.uuid.label('parent_provider_uuid'),
                      RP.c.created_at, RP.c.updated_at)
            .select_from(RP.join(_ROOT, RP.c.root_provider_id == _ROOT.c.id)
                         .outerjoin(_PARENT,
                                    RP.c.parent_provider_id == _PARENT.c.id)))


def _from_row(row):
    # _select's columns are the dataclass's fields, in order (checked
    # below): positional is much cheaper than by name for long lists.
    return ResourceProvider(*row)


assert [c.name for c in _select().selected_columns] == \
    [f.name for f in dataclasses.fields(ResourceProvider)]


# Statements of the hot paths, built once: building a statement costs
# more CPU than executing it.
_INCREMENT_GENERATION = (
    sa.update(RP)
    .where(RP.c.id == sa.bindparam('id_'),
           RP.c.generation == sa.bindparam('expected'))
    .values(generation=RP.c.generation + 1,
            updated_at=sa.bindparam('now')))
_LOCK_BY_UUID = (sa.select(RP.c.id).where(RP.c.uuid == sa.bindparam('uuid'))
                 .with_for_update())
_BY_UUID = _select().where(RP.c.uuid == sa.bindparam('uuid'))


def get_by_uuid(conn, uuid, for_update=False):
    """The provider with ``uuid``; raises ResourceProviderNotFound."""
    provider = find_by_uuid(conn, uuid, for_update)
    if provider is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    return provider


# PostgreSQL locks only the provider's row while reading it with its root
# and parent (FOR UPDATE OF); MariaDB cannot name the table to lock, so
# the row is locked by a query of its own first.  SQLite needs neither:
# a write transaction already holds the database's write lock.
_BY_UUID_LOCKED = _BY_UUID.with_for_update(of=RP)


def find_by_uuid(conn, uuid, for_update=False):
    """The provider with ``uuid``, or None; ``for_update`` locks its row
    until the transaction ends."""
    params = {'uuid': uuid}
    dialect = conn.dialect.name
    if for_update and dialect == 'postgresql':
        row = conn.execute(_BY_UUID_LOCKED, params).first()
    else:
        if for_update and dialect != 'sqlite':
            conn.execute(_LOCK_BY_UUID, params)
        row = conn.execute(_BY_UUID, params).first()
    return _from_row(row) if row is not None else None


# Which of a new provider's uuid and name are taken, in one query; the
# database compares (with its collation), not Python.
_DUPLICATES = (
    sa.select((RP.c.uuid == sa.bindparam('uuid')).label('same_uuid'),
              (RP.c.name == sa.bindparam('name')).label('same_name'))
    .where(sa.or_(RP.c.uuid == sa.bindparam('uuid'),
                  RP.c.name == sa.bindparam('name'))))


def _duplicates(conn, uuid=None, name=None):
    rows = conn.execute(_DUPLICATES, {'uuid': uuid, 'name': name}).all()
    found = []
    if uuid is not None and any(r.same_uuid for r in rows):
        found.append('uuid: %s' % uuid)
    if name is not None and any(r.same_name for r in rows):
        found.append('name: %s' % name)
    return found


def create(conn, uuid, name, parent_uuid=None):
    """Create a provider (a root, or a child of ``parent_uuid``)."""
    duplicates = _duplicates(conn, uuid, name)
    if duplicates:
        raise errors.DuplicateName(
            'Conflicting resource provider %s already exists.'
            % ', '.join(duplicates))
    root_id = parent_id = None
    if parent_uuid is not None:
        if parent_uuid == uuid:
            raise errors.InvalidInput(
                'parent provider UUID cannot be same as UUID. Please '
                'modify either parent provider UUID or UUID.')
        parent = find_by_uuid(conn, parent_uuid, for_update=True)
        if parent is None:
            raise errors.InvalidInput('parent provider UUID does not exist.')
        root_id, parent_id = parent.root_provider_id, parent.id
    try:
        new_id = conn.execute(
            sa.insert(RP).values(uuid=uuid, name=name, generation=0,
                                 root_provider_id=root_id,
                                 parent_provider_id=parent_id,
                                 created_at=sql.utcnow())
        ).inserted_primary_key[0]
    except sa_exc.IntegrityError:
        raise errors.DuplicateName(
            'Conflicting resource provider %s already exists.'
            % ', '.join(['uuid: %s' % uuid, 'name: %s' % name]))
    if root_id is None:
        conn.execute(sa.update(RP).where(RP.c.id == new_id)
                     .values(root_provider_id=new_id))
    return get_by_uuid(conn, uuid)


def descendant_ids(conn, provider_id):
    """Ids of every provider below ``provider_id`` in its tree."""
    found, frontier = [], [provider_id]
    while frontier:
        children = list(conn.execute(
            sa.select(RP.c.id).where(RP.c.parent_provider_id.in_(frontier))
        ).scalars())
        found.extend(children)
        frontier = children
    return found


def update(conn, provider, name, parent_uuid=..., allow_reparent=False):
    """Rename a provider and, when ``parent_uuid`` is given, move it.

    Moving a provider that has a parent (to another parent or to none) is
    allowed only with ``allow_reparent`` (microversion 1.37 on).
    """
    values = {'name': name, 'updated_at': sql.utcnow()}
    if parent_uuid is not ... and parent_uuid != provider.parent_provider_uuid:
        if provider.parent_provider_uuid is not None and not allow_reparent:
            if parent_uuid is None:
                raise errors.InvalidInput(
                    'un-parenting a provider is not currently allowed.')
            raise errors.InvalidInput(
                're-parenting a provider is not currently allowed.')
        if parent_uuid is None:
            new_root, new_parent = provider.id, None
        else:
            parent = find_by_uuid(conn, parent_uuid, for_update=True)
            if parent is None:
                raise errors.InvalidInput(
                    'parent provider UUID does not exist.')
            subtree = descendant_ids(conn, provider.id)
            if parent.id == provider.id or parent.id in subtree:
                raise errors.InvalidInput(
                    'creating loop in the provider tree is not allowed.')
            new_root, new_parent = parent.root_provider_id, parent.id
        values['parent_provider_id'] = new_parent
        if new_root != provider.root_provider_id:
            moved = [provider.id] + descendant_ids(conn, provider.id)
            conn.execute(sa.update(RP).where(RP.c.id.in_(moved))
                         .values(root_provider_id=new_root))
    if name != provider.name and conn.execute(
            sa.select(RP.c.id).where(RP.c.name == name,
                                     RP.c.id != provider.id)).first():
        raise errors.DuplicateName(
            'Conflicting resource provider %s already exists.' % name)
    try:
        conn.execute(sa.update(RP).where(RP.c.id == provider.id)
                     .values(**values))
    except sa_exc.IntegrityError:
        raise errors.DuplicateName(
            'Conflicting resource provider %s already exists.' % name)
    return get_by_uuid(conn, provider.uuid)


def delete(conn, uuid):
    """Delete a provider with no children and no allocations, with its
    inventories, traits and aggregate memberships."""
    provider = find_by_uuid(conn, uuid, for_update=True)
    if provider is None:
        raise errors.ResourceProviderNotFound(
            'No resource provider with uuid %s found for delete' % uuid)
    if conn.execute(sa.select(RP.c.id).where(
            RP.c.parent_provider_id == provider.id).limit(1)).first():
        raise errors.CannotDeleteParentProvider(
            'Unable to delete parent resource provider %s: It has child '
            'resource providers.' % uuid)
    alloc = tables.allocations
    if conn.execute(sa.select(alloc.c.id).where(
            alloc.c.resource_provider_id == provider.id).limit(1)).first():
        raise errors.ResourceProviderInUse(
            'Unable to delete resource provider %s: Resource provider has '
            'allocations.' % uuid)
    for table, column in (
            (tables.inventories, 'resource_provider_id'),
            (tables.resource_provider_traits, 'resource_provider_id'),
            (tables.resource_provider_aggregates, 'resource_provider_id')):
        conn.execute(sa.delete(table).where(table.c[column] == provider.id))
    # A root refers to itself; InnoDB checks that reference on delete.
    conn.execute(sa.update(RP).where(RP.c.id == provider.id)
                 .values(root_provider_id=None))
    conn.execute(sa.delete(RP).where(RP.c.id == provider.id))


@dataclasses.dataclass
class ListFilters:
    """What ``GET /resource_providers`` asked for, already resolved to ids
    by the handler; None means "not filtered on"."""
    uuid: str | None = None
    name: str | None = None
    in_tree: str | None = None
    # Each inner list is "member of any of these aggregate ids".
    member_of: list = dataclasses.field(default_factory=list)
    forbidden_aggregates: list = dataclasses.field(default_factory=list)
    # Each inner list is "has any of these trait ids".
    required_traits: list = dataclasses.field(default_factory=list)
    forbidden_traits: list = dataclasses.field(default_factory=list)
    # {resource class id: amount}
    resources: dict = dataclasses.field(default_factory=dict)


def list_providers(conn, filters):
    """The providers matching ``filters``, ordered by id."""
    query = _select()
    if filters.uuid is not None:
        query = query.where(RP.c.uuid == filters.uuid)
    if filters.name is not None:
        query = query.where(RP.c.name == filters.name)
    if filters.in_tree is not None:
        root = (sa.select(RP.c.root_provider_id)
                .where(RP.c.uuid == filters.in_tree).scalar_subquery())
        query = query.where(RP.c.root_provider_id == root)
    for clause in provider_filters.clauses(filters, RP.c.id):
        query = query.where(clause)
    rows = conn.execute(query.order_by(RP.c.id)).all()
    return [_from_row(r) for r in rows]
