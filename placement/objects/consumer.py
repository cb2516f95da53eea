"""Consumers: the owners of allocations, with project, user, type and
generation.

Consumer generations follow the same compare-and-increment rule as
provider generations: ``increment_generation`` updates the row only if it
still holds the generation the writer read.  Projects, users and consumer
types are stored once each and referred to by id.
"""

import dataclasses
import functools
import weakref

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import database
from placement.db import sql
from placement.db import tables

CONSUMERS = tables.consumers
PROJECTS = tables.projects
USERS = tables.users
TYPES = tables.consumer_types


@dataclasses.dataclass
class Consumer:
    id: int
    uuid: str
    project_id: str
    user_id: str
    generation: int
    consumer_type: str | None
    created_at: object = None
    updated_at: object = None

    def increment_generation(self, conn):
        result = conn.execute(
            sa.update(CONSUMERS)
            .where(CONSUMERS.c.id == self.id,
                   CONSUMERS.c.generation == self.generation)
            .values(generation=CONSUMERS.c.generation + 1,
                    updated_at=sql.utcnow()))
        if result.rowcount != 1:
            raise errors.ConcurrentUpdateDetected(
                'consumer generation conflict - another request changed '
                'consumer %s' % self.uuid)
        self.generation += 1


def _select():
    return (sa.select(CONSUMERS.c.id, CONSUMERS.c.uuid,
                      PROJECTS.c.external_id.label('project_id'),
                      USERS.c.external_id.label('user_id'),
                      CONSUMERS.c.generation,
                      TYPES.c.name.label('consumer_type'),
                      CONSUMERS.c.created_at, CONSUMERS.c.updated_at)
            .select_from(
                CONSUMERS
                .join(PROJECTS, CONSUMERS.c.project_id == PROJECTS.c.id)
                .join(USERS, CONSUMERS.c.user_id == USERS.c.id)
                .outerjoin(TYPES, CONSUMERS.c.consumer_type_id == TYPES.c.id)))


def _named(table, column, key):
    return (sa.select(table.c[column]).where(table.c.id == key)
            .scalar_subquery())


_BY_UUID = _select().where(CONSUMERS.c.uuid == sa.bindparam('uuid'))
# Locking reads lock only the consumer's row (not its project's, user's or
# type's, which other consumers share).  PostgreSQL names the table to
# lock; MariaDB/MySQL do not lock what subqueries read.  SQLite's write
# transactions hold the whole file.
_BY_UUID_LOCKED = {
    'postgresql': _BY_UUID.with_for_update(of=CONSUMERS),
    'mysql': sa.select(
        CONSUMERS.c.id, CONSUMERS.c.uuid,
        _named(PROJECTS, 'external_id', CONSUMERS.c.project_id)
        .label('project_id'),
        _named(USERS, 'external_id', CONSUMERS.c.user_id).label('user_id'),
        CONSUMERS.c.generation,
        _named(TYPES, 'name', CONSUMERS.c.consumer_type_id)
        .label('consumer_type'),
        CONSUMERS.c.created_at, CONSUMERS.c.updated_at,
    ).where(CONSUMERS.c.uuid == sa.bindparam('uuid')).with_for_update(),
}
_BY_UUID_LOCKED['mariadb'] = _BY_UUID_LOCKED['mysql']
_LOCK_BY_UUID = (sa.select(CONSUMERS.c.id)
                 .where(CONSUMERS.c.uuid == sa.bindparam('uuid'))
                 .with_for_update())


def lock(conn, uuid):
    """Lock the row of the consumer ``uuid`` (if it exists) until the
    transaction ends."""
    if conn.dialect.name != 'sqlite':
        sql.execute(conn, _LOCK_BY_UUID, {'uuid': uuid})


def get(conn, uuid, for_update=False):
    """The consumer with ``uuid`` or None; ``for_update`` locks its row."""
    statement = _BY_UUID
    if for_update:
        statement = _BY_UUID_LOCKED.get(conn.dialect.name, _BY_UUID)
    row = sql.execute(conn, statement, {'uuid': uuid}).first()
    return Consumer(**row._mapping) if row is not None else None


# Projects, users and consumer types are never deleted, so their ids are
# remembered per engine (a bounded number of them), once the transaction
# that found or inserted them has committed: a row inserted by a
# transaction that rolls back is gone (and on SQLite its id is given
# again to the next row), even when a later statement of that same
# transaction found it.
_NAMED_IDS = weakref.WeakKeyDictionary()
_NAMED_IDS_MAX = 10000


def _remember(cache, key, found):
    if len(cache) >= _NAMED_IDS_MAX:
        cache.clear()
    cache[key] = found


def _ensure_named(conn, table, column, value):
    cache = _NAMED_IDS.setdefault(conn.engine, {})
    key = (table.name, value)
    found = cache.get(key)
    if found is not None:
        return found
    query = sa.select(table.c.id).where(table.c[column] == value)
    found = conn.execute(query).scalar()
    if found is None:
        sql.insert_ignore(conn, table, [{column: value}], [column])
        found = conn.execute(query).scalar_one()
    database.after_commit(conn, functools.partial(_remember, cache, key,
                                                  found))
    return found


def project_id(conn, external_id):
    return _ensure_named(conn, PROJECTS, 'external_id', external_id)


def user_id(conn, external_id):
    return _ensure_named(conn, USERS, 'external_id', external_id)


def type_id(conn, name):
    return None if name is None else _ensure_named(conn, TYPES, 'name', name)


def create(conn, uuid, project, user, consumer_type=None, generation=0):
    """A new consumer.  Two requests creating the same consumer at once:
    the second gets ConcurrentUpdateDetected."""
    values = {'uuid': uuid, 'project_id': project_id(conn, project),
              'user_id': user_id(conn, user), 'generation': generation,
              'consumer_type_id': type_id(conn, consumer_type),
              'created_at': sql.utcnow()}
    conflict = errors.ConcurrentUpdateDetected(
        'consumer generation conflict - consumer %s was created by '
        'another request' % uuid)
    if conn.dialect.name in ('postgresql', 'sqlite'):
        # A consumer that exists already (or that a concurrent
        # transaction is creating: this one waits for it) is not
        # inserted, and no id comes back.  (MariaDB's INSERT IGNORE would
        # also swallow other errors: it takes a savepoint instead.)
        inserted = sql.insert_ignore(conn, CONSUMERS, [values], ['uuid'],
                                     returning=(CONSUMERS.c.id,))
        if not inserted:
            raise conflict
        new_id = inserted[0].id
    else:
        try:
            with conn.begin_nested():
                new_id = conn.execute(sa.insert(CONSUMERS).values(
                    **values)).inserted_primary_key[0]
        except sa_exc.IntegrityError:
            raise conflict
    return Consumer(id=new_id, uuid=uuid, project_id=project, user_id=user,
                    generation=generation, consumer_type=consumer_type)


def update_owner(conn, consumer, project, user, consumer_type=...):
    """Record a changed project, user or (when given) type."""
    values = {}
    if project != consumer.project_id:
        values['project_id'] = project_id(conn, project)
        consumer.project_id = project
    if user != consumer.user_id:
        values['user_id'] = user_id(conn, user)
        consumer.user_id = user
    if consumer_type is not ... and consumer_type != consumer.consumer_type:
        values['consumer_type_id'] = type_id(conn, consumer_type)
        consumer.consumer_type = consumer_type
    if values:
        conn.execute(sa.update(CONSUMERS)
                     .where(CONSUMERS.c.id == consumer.id).values(**values))


_ALLOC = tables.allocations
_DELETE_UNUSED = sa.delete(CONSUMERS).where(
    CONSUMERS.c.uuid.in_(sa.bindparam('uuids', expanding=True)),
    CONSUMERS.c.uuid.not_in(
        sa.select(_ALLOC.c.consumer_id).where(
            _ALLOC.c.consumer_id.in_(sa.bindparam('uuids', expanding=True)))))


def delete_if_unused(conn, uuids, last=False):
    """Remove the consumers among ``uuids`` that hold no allocations.
    ``last``: this is the transaction's last work (``sql.execute``)."""
    if not uuids:
        return
    sql.execute(conn, _DELETE_UNUSED, {'uuids': list(uuids)}, last=last)
