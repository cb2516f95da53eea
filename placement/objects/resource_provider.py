"""Resource providers, their trees and the generation rule.

The generation rule: a write that changes a provider runs
``increment_generation`` inside its transaction -- one
``UPDATE ... SET generation = generation + 1 WHERE id = :id AND
generation = :expected`` -- and raises ``ConcurrentUpdateDetected`` when
no row matched.  The UPDATE also takes the row lock, so writers of one
provider are serialised until the transaction ends, and a writer that
read an older generation can never succeed.

A write that names the generation its client saw starts with a claim
(``placement.objects.claim``): lock the row, compare the generation and
increment it.  The claimed provider's next
``increment_generation`` call is then already done; a write that ends
up changing nothing rolls its transaction back (``Database.write`` with
``Unchanged``), which undoes the increment.
"""

import dataclasses
import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement import uuids
from placement.db import engine as db_engine
from placement.db import prepared
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
    # Set by ``claim``: the database already holds the next generation.
    claimed: bool = dataclasses.field(default=False, repr=False,
                                      compare=False)

    @classmethod
    def brief(cls, id, uuid, generation, created_at=None, updated_at=None):
        """A provider known only by what the reads and writes of its
        traits, aggregates and inventories use: not its name or tree."""
        return cls(id, uuid, None, generation, None, None, None, None,
                   created_at, updated_at)

    def increment_generation(self, conn):
        """Compare-and-increment: bump the generation from the value this
        object holds, or raise ConcurrentUpdateDetected.  The first call
        after ``claim`` has nothing left to do."""
        if self.claimed:
            self.claimed = False
            return
        now = sql.utcnow()
        result = sql.execute(conn, _INCREMENT_GENERATION, {
            'id_': self.id, 'expected': self.generation, 'now': now})
        if result.rowcount != 1:
            raise errors.ConcurrentUpdateDetected()
        self.generation += 1
        self.updated_at = now

    def set_aggregates(self, conn, aggregate_uuids, increment_generation,
                       last=False, current=None, known=None):
        """Replace the provider's aggregates.  With
        ``increment_generation`` (microversion 1.19 on) the generation is
        compared and bumped in the same transaction first.  ``last``: this
        is the last work of the transaction (``sql.execute``); ``current``
        and ``known``: the provider's aggregates ({id: uuid}) and the
        existing ones among ``aggregate_uuids`` ({uuid: id}), when the
        caller just read them under the lock (``claim``)."""
        if increment_generation:
            self.increment_generation(conn)
        aggregate.replace(conn, self.id, aggregate_uuids, last, current,
                          known)

    def set_traits(self, conn, trait_ids, current=None, last=False):
        """Replace the provider's traits, bumping the generation first.
        ``current``: the trait ids the caller just read, if it did;
        ``last`` as for ``set_aggregates``."""
        self.increment_generation(conn)
        trait.replace_for_provider(conn, self.id, trait_ids, current, last)


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
    [f.name for f in dataclasses.fields(ResourceProvider)][:-1]


# Statements of the hot paths, built once: building a statement costs
# more CPU than executing it.
_INCREMENT_GENERATION = (
    sa.update(RP)
    .where(RP.c.id == sa.bindparam('id_'),
           RP.c.generation == sa.bindparam('expected'))
    .values(generation=RP.c.generation + 1,
            updated_at=sa.bindparam('now')))
_BY_UUID = _select().where(RP.c.uuid == sa.bindparam('uuid')) \
    .execution_options(**{prepared.PREPARE: True})


def get_by_uuid(conn, uuid, for_update=False, waiting=False):
    """The provider with ``uuid``; raises ResourceProviderNotFound."""
    provider = find_by_uuid(conn, uuid, for_update, waiting)
    if provider is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    return provider


# Locking reads lock only the provider's row.  PostgreSQL names the table
# to lock (FOR UPDATE OF); MariaDB/MySQL would lock every row a join
# reads, but not those read by subqueries, so there the root's and the
# parent's uuids come from scalar subqueries.  SQLite needs no lock: a
# write transaction already holds the database's write lock.
_BY_UUID_LOCKED = {
    'postgresql': _BY_UUID.with_for_update(of=RP),
    'mysql': sa.select(
        RP.c.id, RP.c.uuid, RP.c.name, RP.c.generation,
        RP.c.root_provider_id, RP.c.parent_provider_id,
        sa.select(_ROOT.c.uuid).where(_ROOT.c.id == RP.c.root_provider_id)
        .scalar_subquery().label('root_provider_uuid'),
        sa.select(_PARENT.c.uuid)
        .where(_PARENT.c.id == RP.c.parent_provider_id)
        .scalar_subquery().label('parent_provider_uuid'),
        RP.c.created_at, RP.c.updated_at,
    ).where(RP.c.uuid == sa.bindparam('uuid')).with_for_update(),
}
_BY_UUID_LOCKED['mariadb'] = _BY_UUID_LOCKED['mysql']
# PostgreSQL: a row lock is a write there (logged, and it turns a read
# into a transaction that commits), so a read waits for a claim of the
# provider in progress on an advisory lock instead.  A claim (and an
# allocation write, for each provider it bumps) takes the exclusive one
# named after the provider's uuid, for its transaction
# (``claimant_postgresql``); a read that waits first takes the shared
# one, in a statement of its own sent in the same round trip, so that its
# own statement takes its snapshot once any claim it waited for has
# committed.  Both key on the uuid as the request spells it: a spelling
# that is not the stored one finds no provider on PostgreSQL anyway.
_ADVISORY_CLASS = 1886151011
_WAIT_FOR_CLAIMS_POSTGRESQL = (
    'SELECT pg_advisory_xact_lock_shared(%d, hashtext(%%(uuid)s))'
    % _ADVISORY_CLASS)
_AFTER_CLAIMS_POSTGRESQL = {db_engine.FIRST: _WAIT_FOR_CLAIMS_POSTGRESQL}


def claimant_postgresql(uuid):
    """PostgreSQL: a condition, true once the transaction holds the
    exclusive advisory lock of the provider ``uuid`` (the expression
    naming it); evaluating it waits for the reads and the claims that
    hold that lock."""
    # (A void function, called where its value is used: PostgreSQL
    # would drop it from an EXISTS subquery's output unevaluated.)
    return sa.func.pg_advisory_xact_lock(
        sa.literal_column(str(_ADVISORY_CLASS)),
        sa.func.hashtext(uuid)).is_not(None)


def _waiting(statement, mysql_statement=None):
    """{dialect name: ``statement`` (on MariaDB/MySQL
    ``mysql_statement`` when given) as a read whose answer (the
    generation) a client may write with}: on MariaDB/MySQL it
    share-locks the provider's row for the statement (see
    ``_LINKED_WAITING``), on PostgreSQL it first waits on the advisory
    lock of claims and allocation writes.  SQLite needs neither: its
    writes hold the whole database."""
    mysql = (statement if mysql_statement is None
             else mysql_statement).with_for_update(read=True)
    return {'mysql': mysql, 'mariadb': mysql,
            'postgresql': statement.execution_options(
                **_AFTER_CLAIMS_POSTGRESQL)}


_BY_UUID_WAITING = _waiting(_BY_UUID, _BY_UUID_LOCKED['mysql'])


# Longer than any spelling of a uuid: no provider can have it.
_MAX_UUID_LENGTH = 64


def may_exist(uuid):
    """False for a string that names no provider without asking the
    database: longer than any spelling of a uuid, or holding NUL (which
    PostgreSQL cannot even compare).  Such strings are not sent."""
    return len(uuid) <= _MAX_UUID_LENGTH and '\x00' not in uuid


def find_by_uuid(conn, uuid, for_update=False, waiting=False):
    """The provider with ``uuid``, or None; ``for_update`` locks its row
    until the transaction ends.  ``waiting`` is for a read whose answer
    (the generation) a client may write with: on MariaDB/MySQL it waits
    for a write of the provider in progress, on PostgreSQL for a claim
    or an allocation write in progress, and answers what that write
    commits."""
    if not may_exist(uuid):
        return None
    if for_update:
        row = sql.execute(conn, _BY_UUID_LOCKED.get(
            conn.dialect.name, _BY_UUID), {'uuid': uuid}).first()
    elif waiting:
        row = read_waiting(conn, _BY_UUID_WAITING.get(
            conn.dialect.name, _BY_UUID), _BY_UUID, {'uuid': uuid})
    else:
        row = sql.execute(conn, _BY_UUID, {'uuid': uuid}).first()
    return _from_row(row) if row is not None else None


def read_waiting(conn, statement, plain, params):
    """The first row ``statement`` (a read that may wait for writers)
    answers; when the database ends it to break a deadlock (on
    MariaDB/MySQL its share locks can meet a writer's in another order),
    the first row of ``plain``: what is committed, without waiting."""
    try:
        return sql.execute(conn, statement, params).first()
    except sa_exc.DBAPIError as error:
        if statement is plain or not db_engine.is_retryable(error):
            raise
    return sql.execute(conn, plain, params).first()


# What a provider is linked to: (the link table's column holding the
# linked row's id, the column naming that row or None).
LINKS = {
    'traits': (tables.resource_provider_traits.c.trait_id,
               tables.traits.c.name),
    'aggregates': (tables.resource_provider_aggregates.c.aggregate_id,
                   tables.placement_aggregates.c.uuid),
    'inventories': (tables.inventories.c.resource_class_id, None),
}


def joined(strings):
    """string_agg / group_concat of ``strings`` with ',' (written into
    the statement's text, not sent as a parameter)."""
    return sa.func.aggregate_strings(strings, sa.literal_column("','"))


def linked_string(kind, provider_id, names_only=False):
    """What ``kind`` links to the provider ``provider_id`` as one
    'id[:name],...' string, with ``names_only`` 'name,...' (a scalar
    subquery, which a locking read does not extend to): one row with a
    string costs the drivers much less to decode than a row per linked
    value."""
    link_id, name = LINKS[kind]
    link = link_id.table
    pairs, joins = sa.cast(link_id, sa.String), link
    if name is not None:
        pairs = name if names_only else pairs + ':' + name
        joins = link.join(name.table, name.table.c.id == link_id)
    return (sa.select(joined(pairs))
            .select_from(joins)
            .where(link.c.resource_provider_id == provider_id)
            .scalar_subquery().label('linked'))


# Reads and claims for a provider's traits, aggregates and inventories
# ask only for the columns they use: every column of a result costs the
# server a description to send and the driver one to read.  Claims read
# the provider's id and generation.
BRIEF = sa.select(RP.c.id, RP.c.generation).where(
    RP.c.uuid == sa.bindparam('uuid'))


def aggregates_linked(provider_id):
    """The provider's aggregates as 'id[:uuid],...' (``aggregate.
    linked_item``: the uuid only of those this process has not read)."""
    link = tables.resource_provider_aggregates
    return (sa.select(joined(aggregate.linked_item(link.c.aggregate_id)))
            .where(link.c.resource_provider_id == provider_id)
            .scalar_subquery().label('linked'))


# Reads of a provider's generation with what is linked to it: for traits
# their names and the provider's timestamps (their last-modified), for
# aggregates their ids (``aggregate.linked_by_id`` knows their uuids).
_LINKED = {
    kind: sa.select(RP.c.generation, *timestamps, linked)
    .where(RP.c.uuid == sa.bindparam('uuid'))
    .execution_options(**{prepared.PREPARE: True})
    for kind, timestamps, linked in (
        ('traits', (RP.c.created_at, RP.c.updated_at),
         linked_string('traits', RP.c.id, names_only=True)),
        ('aggregates', (), aggregates_linked(RP.c.id)))}


def stored_uuid(uuid):
    """The stored spelling of the provider ``uuid`` found: rows match
    the spelling asked for exactly, or on MariaDB/MySQL in any case."""
    return uuid.lower()


# MariaDB/MySQL: the same reads, share-locking the provider's row for the
# statement (the read engine autocommits), so that a read waits for a
# write of the provider in progress and answers the generation that
# write makes, not the one it replaces: a client about to write with
# the generation it read would otherwise be sure to lose.  The lock is
# the read's only one, taken before anything else is read, and the
# statement then reads the writer's committed rows.  PostgreSQL's reads
# wait on the advisory lock of claims and allocation writes
# (``_AFTER_CLAIMS_POSTGRESQL``).
_LINKED_WAITING = {kind: _waiting(statement)
                   for kind, statement in _LINKED.items()}


def _get_with_linked(conn, kind, uuid, **parameters):
    if not may_exist(uuid):
        raise errors.ResourceProviderNotFound(uuid=uuid)
    statement = _LINKED_WAITING[kind].get(conn.dialect.name, _LINKED[kind])
    row = read_waiting(conn, statement, _LINKED[kind],
                       dict(parameters, uuid=uuid))
    if row is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    return ResourceProvider.brief(None, stored_uuid(uuid), *row[:-1]), \
        row.linked


def get_with_traits(conn, uuid):
    """(provider, sorted trait names), in one query; raises
    ResourceProviderNotFound.  The provider knows its generation and
    timestamps, not its id."""
    provider, linked = _get_with_linked(conn, 'traits', uuid)
    return provider, sorted(linked.split(',')) if linked else []


def get_with_aggregates(conn, uuid):
    """(provider, sorted aggregate uuids), in one query (and one more
    when the provider has an aggregate this process has not read, but
    older than the newest it has read); raises ResourceProviderNotFound.
    The provider knows its generation, not its id or timestamps."""
    provider, linked = _get_with_linked(
        conn, 'aggregates', uuid, newest=aggregate.newest_remembered(conn))
    return provider, sorted(aggregate.linked_by_id(conn, linked).values())


# A new root provider is its own root.  PostgreSQL takes the id from the
# table's sequence first, so one INSERT sets both; elsewhere an UPDATE
# follows the INSERT (in the same round trip on MariaDB/MySQL).
_NEXT_ID = sa.select(sa.func.nextval(
    sa.func.pg_get_serial_sequence('resource_providers', 'id')
).label('id')).subquery('next_id')
_INSERT_ROOT_POSTGRESQL = sa.insert(RP).from_select(
    ['id', 'uuid', 'name', 'generation', 'root_provider_id', 'created_at'],
    sa.select(_NEXT_ID.c.id, sa.bindparam('uuid', type_=RP.c.uuid.type),
              sa.bindparam('name', type_=RP.c.name.type), sa.literal(0),
              _NEXT_ID.c.id,
              sa.bindparam('now', type_=RP.c.created_at.type))
).returning(RP.c.id)


def _insert_child_postgresql():
    """PostgreSQL: a child provider created in one statement, its parent
    (parameter parent_uuid) locked first; one row when the parent exists
    (the child's new_id; the parent's id, uuid, root_provider_id and
    root_provider_uuid), none otherwise."""
    parent = (sa.select(RP.c.id, RP.c.uuid, RP.c.root_provider_id)
              .where(RP.c.uuid == sa.bindparam('parent_uuid'))
              .with_for_update().cte('parent'))
    created = sa.insert(RP).from_select(
        ['uuid', 'name', 'generation', 'root_provider_id',
         'parent_provider_id', 'created_at'],
        sa.select(sa.bindparam('uuid', type_=RP.c.uuid.type),
                  sa.bindparam('name', type_=RP.c.name.type), sa.literal(0),
                  parent.c.root_provider_id, parent.c.id,
                  sa.bindparam('now', type_=RP.c.created_at.type))
    ).returning(RP.c.id).cte('created')
    return sa.select(
        created.c.id.label('new_id'), parent.c.id, parent.c.uuid,
        parent.c.root_provider_id,
        sa.select(_ROOT.c.uuid).where(_ROOT.c.id == parent.c.root_provider_id)
        .scalar_subquery().label('root_provider_uuid')
    ).select_from(parent.join(created, sa.true()))


_INSERT_CHILD_POSTGRESQL = _insert_child_postgresql()
# MariaDB/MySQL: a child's INSERT sent after its parent's locking read,
# in the same round trip.  It takes its values from the parent's row
# (parameter then_parent_uuid), so it inserts nothing without a parent.
_PARENT_ROW = RP.alias('parent_row')
_INSERT_CHILD_AFTER_PARENT = sa.insert(RP).from_select(
    ['uuid', 'name', 'generation', 'root_provider_id', 'parent_provider_id',
     'created_at'],
    sa.select(sa.bindparam('then_uuid', type_=RP.c.uuid.type),
              sa.bindparam('then_name', type_=RP.c.name.type),
              sa.literal_column('0'), _PARENT_ROW.c.root_provider_id,
              _PARENT_ROW.c.id,
              sa.bindparam('then_now', type_=RP.c.created_at.type))
    .where(_PARENT_ROW.c.uuid == sa.bindparam('then_parent_uuid')))
_INSERT = sa.insert(RP)
_SET_ROOT = (sa.update(RP).where(RP.c.id == sa.bindparam('id_'))
             .values(root_provider_id=sa.bindparam('id_'), updated_at=None))
# MariaDB/MySQL: sent with the INSERT, in the same round trip.
_SET_ROOT_TO_LAST_INSERT = (
    sa.update(RP).where(RP.c.id == sa.func.last_insert_id())
    .values(root_provider_id=sa.func.last_insert_id(),
            updated_at=sa.null()))


def _duplicate_message(conn, error, uuid, name):
    key = sql.duplicate_key(error) or ''
    if key.endswith('.name') and conn.execute(
            sa.select(RP.c.id).where(RP.c.uuid == uuid)).first():
        # SQLite names the last constraint broken, the others the first:
        # the uuid's, when both are taken.
        key = '.uuid'
    duplicates = []
    if key.endswith(('0uuid', '.uuid')):
        duplicates.append('uuid: %s' % uuid)
    if key.endswith(('0name', '.name')):
        duplicates.append('name: %s' % name)
    if not duplicates:
        duplicates = ['uuid: %s' % uuid, 'name: %s' % name]
    return ('Conflicting resource provider %s already exists.'
            % ', '.join(duplicates))


# Errors of creations and updates, worded as OpenStack Placement words
# them (it names the 'create' action for a missing parent in an update
# too).
_CREATE_FAILED = 'Object action create failed because: '
_UPDATE_FAILED = 'Object action update failed because: '


def create(conn, uuid, name, parent_uuid=None, whole_transaction=False):
    """Create a provider (a root, or a child of ``parent_uuid``); raises
    InvalidInput for an empty name or a provider its own parent, and
    DuplicateName when the uuid or the name is taken.
    ``whole_transaction``: nothing runs before or after it in the
    caller's transaction, so on PostgreSQL the provider's one statement
    runs alone, without BEGIN and COMMIT (``sql.execute``), and on
    MariaDB/MySQL a child is created in one round trip, which does not
    read its id (the provider's id is then None)."""
    parent = None
    now = sql.utcnow_as_stored(conn)
    if not name:
        raise errors.InvalidInput(_CREATE_FAILED + 'name is required')
    if parent_uuid == uuid:
        raise errors.InvalidInput(
            _CREATE_FAILED + 'parent provider UUID cannot be same as UUID. '
            'Please set parent provider UUID to None if there is no parent.')
    try:
        if parent_uuid is not None:
            new_id, parent = _insert_child(conn, uuid, name, parent_uuid,
                                           now, whole_transaction)
        elif conn.dialect.name == 'postgresql':
            new_id = sql.execute(conn, _INSERT_ROOT_POSTGRESQL, {
                'uuid': uuid, 'name': name, 'now': now},
                last=whole_transaction).scalar_one()
        elif sql.sends_together(conn):
            new_id = sql.execute(conn, _INSERT, {
                'uuid': uuid, 'name': name, 'generation': 0,
                'created_at': now}, then=(_SET_ROOT_TO_LAST_INSERT, {}),
                last=whole_transaction).inserted_primary_key[0]
        else:
            new_id = sql.execute(conn, _INSERT, {
                'uuid': uuid, 'name': name, 'generation': 0,
                'created_at': now}).inserted_primary_key[0]
            sql.execute(conn, _SET_ROOT, {'id_': new_id})
    except sa_exc.IntegrityError as error:
        raise errors.DuplicateName(
            _duplicate_message(conn, error, uuid, name))
    if parent is None:
        root = (new_id, uuid)
    else:
        root = (parent.root_provider_id, parent.root_provider_uuid)
    return ResourceProvider(
        id=new_id, uuid=uuid, name=name, generation=0,
        root_provider_id=root[0], parent_provider_id=parent and parent.id,
        root_provider_uuid=root[1],
        parent_provider_uuid=parent and parent.uuid, created_at=now)


def _insert_child(conn, uuid, name, parent_uuid, now, whole_transaction):
    """Insert the child of ``parent_uuid``, its parent locked first:
    (the child's id, the parent with its id, uuid, root_provider_id and
    root_provider_uuid).  Raises InvalidInput when there is no parent.
    With ``whole_transaction``, one round trip does it all on PostgreSQL
    and on MariaDB/MySQL sending statements together (where the child's
    id is then not read: None)."""
    if whole_transaction and conn.dialect.name == 'postgresql':
        row = sql.execute(conn, _INSERT_CHILD_POSTGRESQL, {
            'uuid': uuid, 'name': name, 'parent_uuid': parent_uuid,
            'now': now}, last=True).first()
        if row is None:
            raise errors.InvalidInput(_NO_PARENT)
        return row.new_id, row
    if whole_transaction and sql.sends_together(conn) and \
            may_exist(parent_uuid):
        parent = sql.execute(
            conn, _BY_UUID_LOCKED['mysql'], {'uuid': parent_uuid},
            then=(_INSERT_CHILD_AFTER_PARENT, {
                'then_uuid': uuid, 'then_name': name, 'then_now': now,
                'then_parent_uuid': parent_uuid}), last=True).first()
        if parent is None:
            raise errors.InvalidInput(_NO_PARENT)
        return None, _from_row(parent)
    parent = _locked_parent(conn, parent_uuid)
    new_id = sql.execute(conn, _INSERT, {
        'uuid': uuid, 'name': name, 'generation': 0,
        'root_provider_id': parent.root_provider_id,
        'parent_provider_id': parent.id, 'created_at': now},
        last=whole_transaction).inserted_primary_key[0]
    return new_id, parent


_NO_PARENT = _CREATE_FAILED + 'parent provider UUID does not exist.'


def _locked_parent(conn, parent_uuid):
    """The provider at ``parent_uuid``, its row locked for the
    transaction; raises InvalidInput when there is none."""
    parent = find_by_uuid(conn, parent_uuid, for_update=True)
    if parent is None:
        raise errors.InvalidInput(_NO_PARENT)
    return parent


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
        # In OpenStack Placement's order: the new parent must exist, then
        # the move be allowed, then make no loop.
        parent = (None if parent_uuid is None
                  else _locked_parent(conn, parent_uuid))
        if provider.parent_provider_uuid is not None and not allow_reparent:
            if parent is None:
                raise errors.InvalidInput(
                    _UPDATE_FAILED + 'un-parenting a provider is not '
                    'currently allowed.')
            raise errors.InvalidInput(
                _UPDATE_FAILED + 're-parenting a provider is not currently '
                'allowed.')
        if parent is None:
            new_root, new_parent = provider.id, None
        else:
            subtree = descendant_ids(conn, provider.id)
            if parent.id == provider.id or parent.id in subtree:
                raise errors.InvalidInput(
                    _UPDATE_FAILED + 'creating loop in the provider tree '
                    'is not allowed.')
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
