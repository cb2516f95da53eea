"""Aggregates: uuids grouping providers, and provider membership.

Aggregate uuids are stored in their canonical form (lower-case, dashed);
callers normalise what clients send before it reaches this module.

An aggregate's row, once created, never changes and is never deleted:
its id names the same uuid for the life of the database, and ids are
not reused.  So each process remembers, per database engine, the uuid
of every aggregate id it has read (``_uuids_by_id``), and reads of a
provider's aggregates ask the database for ids, without the join to the
aggregates table (which costs MariaDB about 2 us per aggregate), and
for the uuids only of ids above the newest it remembers: those of
aggregates created since (``linked_item``), in the same statement;
on PostgreSQL, writes name the aggregates it remembers by id, so the
database looks up only the uuids it has not read (``remembered_ids``).
This holds as long as the database is not replaced under a running
service (restoring an older dump, say): restart the service after such
surgery.
"""

import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from placement.db import sql
from placement.db import tables
from placement.objects import standard_ids

AGG = tables.placement_aggregates
RPA = tables.resource_provider_aggregates

# Statements of the hot paths, built once (building one costs more CPU
# than executing it).
_IDS_BY_UUID = sa.select(AGG.c.uuid, AGG.c.id).where(
    AGG.c.uuid.in_(sa.bindparam('uuids', expanding=True)))
# (uuid, id, False) of the aggregates named, then (None, id, True) of
# those the provider has.
_NAMED_OR_MEMBER = sa.union_all(
    sa.select(AGG.c.uuid, AGG.c.id, sa.false().label('member'))
    .where(AGG.c.uuid.in_(sa.bindparam('uuids', expanding=True))),
    sa.select(sa.null(), RPA.c.aggregate_id, sa.true())
    .where(RPA.c.resource_provider_id == sa.bindparam('provider_id')))
_REMOVE_FROM_PROVIDER = sa.delete(RPA).where(
    RPA.c.resource_provider_id == sa.bindparam('provider_id'),
    RPA.c.aggregate_id.in_(sa.bindparam('aggregate_ids', expanding=True)))
# inline: no primary key read back (it can travel with the COMMIT).
_ADD_TO_PROVIDER = sa.insert(RPA).inline()
_LINK_COLUMNS = ['resource_provider_id', 'aggregate_id', 'created_at']


def _created_postgresql(uuids_and_times):
    """PostgreSQL: a CTE creating the aggregates (uuid, created_at) that
    ``uuids_and_times`` selects, answering the id of each.  DO UPDATE
    (not DO NOTHING) so that an aggregate another transaction created
    meanwhile still answers its id."""
    insert = postgresql.insert(AGG).from_select(['uuid', 'created_at'],
                                                uuids_and_times)
    return (insert.on_conflict_do_update(
        index_elements=[AGG.c.uuid], set_={'uuid': insert.excluded.uuid})
        .returning(AGG.c.id).cte('created'))


def _create_and_add_postgresql():
    """One statement creating the aggregates ``uuids`` and adding them,
    with the existing ``ids``, to the provider."""
    now = sa.bindparam('now', type_=sa.DateTime)
    provider = sa.bindparam('provider_id', type_=sa.Integer)
    created = _created_postgresql(sa.select(sa.func.unnest(sa.bindparam(
        'uuids', type_=postgresql.ARRAY(sa.String))), now))
    return sa.insert(RPA).from_select(_LINK_COLUMNS, sa.union_all(
        sa.select(provider, created.c.id, now),
        sa.select(provider, sa.func.unnest(sa.bindparam(
            'ids', type_=postgresql.ARRAY(sa.Integer))), now)))


_CREATE_AND_ADD_POSTGRESQL = _create_and_add_postgresql()
# MariaDB/MySQL: sent after the INSERT IGNORE of the new aggregates, in
# the same round trip; one statement per number of uuids.
_ADD_BY_UUID = {}


def _add_by_uuid(count):
    statement = _ADD_BY_UUID.get(count)
    if statement is None:
        statement = _ADD_BY_UUID[count] = sa.insert(RPA).from_select(
            _LINK_COLUMNS,
            sa.select(sa.bindparam('then_provider_id', type_=sa.Integer),
                      AGG.c.id, sa.bindparam('then_now', type_=sa.DateTime))
            .where(AGG.c.uuid.in_([sa.bindparam('then_uuid_%d' % i)
                                   for i in range(count)])))
    return statement


_UUIDS_BY_ID = sa.select(AGG.c.id, AGG.c.uuid).where(
    AGG.c.id.in_(sa.bindparam('ids', expanding=True)))
# engine -> _Memory of the aggregates this process has read through it;
# replaced by an empty one when it would outgrow ``REMEMBERED``
# (replaced, not emptied: a reader holding it still finds its ids).
_remembered = weakref.WeakKeyDictionary()
_remembered_lock = threading.Lock()
REMEMBERED = 100000


class _Memory:
    """The aggregates read through one engine, both ways: ``uuid_of``
    {id: uuid} and ``id_of`` {uuid: id}; ``newest`` is the largest id
    remembered (0 when none is)."""

    __slots__ = ('uuid_of', 'id_of', 'newest')

    def __init__(self):
        self.uuid_of = {}
        self.id_of = {}
        self.newest = 0

    def __len__(self):
        return len(self.uuid_of)


_NOTHING_REMEMBERED = _Memory()


def _uuids_by_id(conn, ids):
    """{id: uuid} of the aggregates ``ids`` (an id with no aggregate is
    left out), reading from the database only those this process has not
    seen yet.  Only for ids read from committed rows: on SQLite the id
    of a row whose creation was rolled back is given again."""
    known = _remembered.get(conn.engine, _NOTHING_REMEMBERED).uuid_of
    missing = [agg_id for agg_id in ids if agg_id not in known]
    if not missing:
        return {agg_id: known[agg_id] for agg_id in ids}
    found = dict(sql.execute(conn, _UUIDS_BY_ID,
                             {'ids': sorted(set(missing))}).all())
    _remember(conn.engine, found)
    by_id = {}
    for agg_id in ids:
        agg_uuid = found.get(agg_id) or known.get(agg_id)
        if agg_uuid is not None:
            by_id[agg_id] = agg_uuid
    return by_id


def _remember(engine, found):
    """Add {id: uuid} ``found`` (read from committed rows) to what this
    process remembers of ``engine``'s aggregates."""
    if not found:
        return
    with _remembered_lock:
        current = _remembered.get(engine)
        if current is None or len(current) + len(found) > REMEMBERED:
            current = _remembered[engine] = _Memory()
        current.uuid_of.update(found)
        current.id_of.update((agg_uuid, agg_id)
                             for agg_id, agg_uuid in found.items())
        current.newest = max(current.newest, max(found))


def newest_remembered(conn):
    """The largest aggregate id this process remembers for ``conn``'s
    engine (0 when none): the parameter ``newest`` of ``linked_item``."""
    return _remembered.get(conn.engine, _NOTHING_REMEMBERED).newest


def linked_item(provider_aggregate_id):
    """A provider's link to an aggregate as the string 'id', or 'id:uuid'
    when the id is above the parameter ``newest`` (given
    ``newest_remembered``): the aggregates created since this process
    last read one come with their uuids, in the same statement.  An id
    with no aggregate above ``newest`` is NULL (left out)."""
    uuid = (sa.select(AGG.c.uuid).where(AGG.c.id == provider_aggregate_id)
            .scalar_subquery())
    return sa.cast(provider_aggregate_id, sa.String) + sa.case(
        (provider_aggregate_id > sa.bindparam('newest', type_=sa.Integer),
         sa.literal_column("':'", sa.String) + uuid),
        else_=sa.literal_column("''", sa.String))


def linked_by_id(conn, text):
    """{id: uuid} of the aggregates in ``text``, a string of items
    ``linked_item`` made joined with ',' (or None: no aggregate): those
    given with their uuid are remembered, the others are found as
    ``_uuids_by_id`` finds them.  Claims use it too: the links they read,
    under the provider's lock and before writing anything, name
    committed aggregates."""
    if not text:
        return {}
    if ':' in text:
        ids, found = [], {}
        for item in text.split(','):
            agg_id, _, agg_uuid = item.partition(':')
            agg_id = int(agg_id)
            ids.append(agg_id)
            if agg_uuid:
                found[agg_id] = agg_uuid
        _remember(conn.engine, found)
    else:
        # Every one remembered already, the usual case.
        ids = list(map(int, text.split(',')))
    return _uuids_by_id(conn, ids)


def remembered_ids(conn, uuids):
    """({uuid: id} of the aggregates among ``uuids`` this process has
    read, [the others])."""
    return standard_ids.split_known(
        _remembered.get(conn.engine, _NOTHING_REMEMBERED).id_of, uuids)


def ids_by_uuid(conn, uuids):
    """{uuid: id} of the known aggregates among ``uuids``."""
    uuids = set(uuids)
    if not uuids:
        return {}
    return dict(sql.execute(conn, _IDS_BY_UUID,
                            {'uuids': sorted(uuids)}).all())


def _create(conn, uuids):
    """{uuid: id} for ``uuids`` that were not found just now: insert them
    (unless a concurrent request just did: that one is looked up) and
    learn their ids."""
    if not uuids:
        return {}
    created = dict(sql.insert_ignore(
        conn, AGG, [{'uuid': u} for u in sorted(uuids)], ['uuid'],
        returning=(AGG.c.uuid, AGG.c.id)) or ())
    created.update(ids_by_uuid(conn, set(uuids) - set(created)))
    return created


def replace(conn, provider_id, uuids, last=False, current=None, known=None):
    """Make ``uuids`` exactly the aggregates of the provider.  ``last``:
    this is the transaction's last work (``sql.execute``); ``current``:
    the provider's aggregates ({id: uuid}) when the caller has just read
    them under the provider's lock, and ``known``: {uuid: id} of those
    among ``uuids`` that existed then (when it read that too).  Where
    ``_creates_while_adding``, ``known`` may leave out aggregates that
    exist: they are found by the statement that creates the others."""
    uuids = set(uuids)
    if current is None:
        # One query answers both "which of these exist" and "which does
        # the provider have now".
        current, known = set(), {}
        for agg_uuid, agg_id, member in sql.execute(conn, _NAMED_OR_MEMBER, {
                'provider_id': provider_id, 'uuids': sorted(uuids)}):
            if member:
                current.add(agg_id)
            else:
                known[agg_uuid] = agg_id
    else:
        if known is None:
            known = ids_by_uuid(conn, uuids - set(current.values()))
        known = {**known, **{agg_uuid: agg_id
                             for agg_id, agg_uuid in current.items()}}
        current = set(current)
    wanted = {known[u] for u in uuids if u in known}
    missing = uuids - set(known)
    if missing and not _creates_while_adding(conn):
        # Only aggregates never seen before need this.
        wanted.update(_create(conn, missing).values())
        missing = set()
    gone = current - wanted
    new = wanted - current
    removal = None
    if gone and (new or missing) and sql.sends_together(conn):
        # Removed in the round trip that adds.
        removal = sql.unlinking(RPA.c.aggregate_id, provider_id, gone)
    elif gone:
        sql.execute(conn, _REMOVE_FROM_PROVIDER, {
            'provider_id': provider_id, 'aggregate_ids': sorted(gone)},
            last=last and not (new or missing))
    if missing:
        _create_and_add(conn, provider_id, {
            u: known[u] for u in uuids if u in known and known[u] in new
        }, sorted(missing), last, removal)
    elif new:
        now = sql.utcnow()
        sql.execute(conn, _ADD_TO_PROVIDER, [
            {'resource_provider_id': provider_id, 'aggregate_id': a,
             'created_at': now} for a in sorted(new)], last=last,
            then=removal)


def _creates_while_adding(conn):
    """True where ``_create_and_add`` creates aggregates in the round trip
    that adds them: PostgreSQL, and MariaDB/MySQL sending statements
    together."""
    return conn.dialect.name == 'postgresql' or sql.sends_together(conn)


def _create_and_add(conn, provider_id, existing, uuids, last,
                    removal=None):
    """Create the aggregates ``uuids`` (unless a concurrent request just
    did) and add them and the ``existing`` ones ({uuid: id}) to the
    provider, in one round trip (with ``removal``, ``sql.unlinking``'s
    answer, where statements are sent together)."""
    now = sql.utcnow()
    if conn.dialect.name == 'postgresql':
        sql.execute(conn, _CREATE_AND_ADD_POSTGRESQL, {
            'provider_id': provider_id, 'now': now, 'uuids': uuids,
            'ids': sorted(existing.values())}, last=last)
        return
    # MariaDB/MySQL: then add by uuid what surely exists by then (INSERT
    # IGNORE waits for a concurrent inserter of the same uuid to end).
    by_uuid = uuids + sorted(existing)
    params = {'then_uuid_%d' % i: u for i, u in enumerate(by_uuid)}
    params.update(then_provider_id=provider_id, then_now=now)
    statements = (_add_by_uuid(len(by_uuid)),)
    if removal is not None:
        statements += (removal[0],)
        params.update(removal[1])
    sql.execute(conn, sql.insert_ignore_statement(conn, AGG, ['uuid']),
                [{'uuid': u, 'created_at': now} for u in uuids],
                then=(statements, params), last=last)


def replacing_postgresql(claimed):
    """PostgreSQL: the two writes (a DELETE as a CTE, an INSERT) that
    make the aggregates ``ids`` (parameter: an array literal of ids) and
    ``uuids`` (an array literal of canonical uuids, sorted) exactly those
    of the provider that ``claimed`` (the CTE of a claim in the same
    statement, ``claim.claimed_in_snapshot_postgresql``) claims, and
    write nothing when it claims no row.  They read the provider's links
    in the statement's snapshot, which that claim guarantees is the
    provider's latest state.  Aggregates never seen before are created;
    only links the provider lacks are inserted."""
    now = sa.bindparam('now', type_=sa.DateTime)
    named = sa.cast(sa.bindparam('uuids'), postgresql.ARRAY(sa.String))
    provider_id = sa.select(claimed.c.id).scalar_subquery()
    only = sa.exists(sa.select(claimed.c.id))
    # Joined, not filtered with '= ANY (array)': that compares every row
    # of placement_aggregates it reads with every uuid asked for (a
    # sequential scan on a generic plan, which grows with the table); a
    # join looks each uuid up once.
    asked = sa.select(sa.func.unnest(named).label('uuid')).cte('asked')
    known = (sa.select(AGG.c.id, AGG.c.uuid)
             .select_from(asked.join(AGG, AGG.c.uuid == asked.c.uuid))
             .cte('known'))
    # Created in uuid order: concurrent creators of the same aggregates
    # wait for each other instead of deadlocking.
    created = _created_postgresql(
        sa.select(asked.c.uuid, now)
        .where(asked.c.uuid.not_in(sa.select(known.c.uuid)), only)
        .order_by(asked.c.uuid))
    wanted = sa.union_all(
        sa.select(sa.func.unnest(sa.cast(
            sa.bindparam('ids'), postgresql.ARRAY(sa.Integer))).label('id')),
        sa.select(known.c.id), sa.select(created.c.id)).cte('wanted')
    linked = sa.select(RPA.c.aggregate_id).where(
        RPA.c.resource_provider_id == provider_id)
    removed = sa.delete(RPA).where(
        RPA.c.resource_provider_id == provider_id,
        RPA.c.aggregate_id.not_in(sa.select(wanted.c.id))).cte('removed')
    added = postgresql.insert(RPA).from_select(
        _LINK_COLUMNS, sa.select(provider_id, wanted.c.id, now)
        .where(wanted.c.id.not_in(linked), only)
    ).on_conflict_do_nothing()
    return removed, added


def replacing_parameters_postgresql(conn, uuids):
    """The parameters ``ids``, ``uuids`` and ``now`` of the statements
    ``replacing_postgresql`` builds, to make ``uuids`` (canonical) the
    provider's aggregates.  The aggregates this process has read are
    named by id, so the database looks up only the uuids of the others."""
    ids, others = remembered_ids(conn, uuids)
    return {'now': sql.utcnow(),
            'ids': sql.integer_array_literal(ids.values()),
            'uuids': sql.array_literal(sorted(others))}
