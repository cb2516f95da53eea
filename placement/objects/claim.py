"""Claims: the start of a write that names the provider generation its
client saw (``claim``: lock the provider's row, compare the generation
and increment it), and the writes of a provider's aggregates and traits
that begin with one.

On PostgreSQL a claim is one statement, which reads no more than it
must: most claims of a contended provider fail, and one that fails ends
the write.  On MariaDB/MySQL the claim is a locking read with the
increment sent in the same round trip, and a claim that fails ends its
transaction in that round trip too; SQLite's write transaction already
holds the database.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from placement import errors
from placement.db import database as db_database
from placement.db import engine as db_engine
from placement.db import prepared
from placement.db import sql
from placement.db import tables
from placement.objects import aggregate
from placement.objects import resource_provider as rp
from placement.objects import trait

RP = tables.resource_providers
_AGG = tables.placement_aggregates
_TRAITS = tables.traits


def _named_aggregates():
    """The aggregates a write names (parameter ``named``) that exist, as
    one 'id:uuid,...' string."""
    return (sa.select(rp.joined(sa.cast(_AGG.c.id, sa.String) + ':'
                                + _AGG.c.uuid))
            .where(_AGG.c.uuid.in_(sa.bindparam('named', expanding=True)))
            .scalar_subquery().label('named'))


def _if_expected(expression, otherwise=None):
    """``expression``, evaluated only when the provider's generation is
    the one the write expects (parameter ``expected``), else
    ``otherwise``: a stale claim does not pay for it."""
    return sa.case((RP.c.generation == sa.bindparam('expected'),
                    expression), else_=otherwise)


def _when_expected(column):
    """``column`` (a labelled expression), read only when the claim's
    generation is the one expected (``_if_expected``)."""
    return _if_expected(column.element).label(column.name)


def _claim_reads():
    """The reads of claims on MariaDB/MySQL (which lock the provider's
    row: the only table the statement reads outside subqueries) and
    SQLite, by (locked, linked, with the named aggregates)."""
    reads = {}
    for locked in (False, True):
        base = rp.BRIEF.with_for_update() if locked else rp.BRIEF
        reads[locked, None, False] = base
        for kind in rp.LINKS:
            # Aggregates as their reads have them: ids, and the uuids
            # only of those newer than any this process remembers.
            linked = (rp.aggregates_linked(RP.c.id) if kind == 'aggregates'
                      else rp.linked_string(kind, RP.c.id))
            reads[locked, kind, False] = base.add_columns(
                _when_expected(linked))
        reads[locked, 'aggregates', True] = reads[
            locked, 'aggregates', False].add_columns(
                _when_expected(_named_aggregates()))
    return reads


_CLAIM_READS = _claim_reads()
# MariaDB/MySQL: the claim's locking read of the provider's id and
# generation.
LOCKING_READ = _CLAIM_READS[True, None, False]


def _storable(generation):
    """``generation`` as a parameter every database takes: one beyond a
    64-bit integer (which SQLite refuses) matches no provider, as -1."""
    return generation if prepared.fits_bigint(generation) else -1


def _parse_linked(text):
    """{id: name or None} of an 'id[:name],...' string."""
    linked = {}
    for item in (text or '').split(','):
        if item:
            key, _, name = item.partition(':')
            linked[int(key)] = name or None
    return linked


# PostgreSQL: what a claim of a row whose generation is the one expected
# does before it waits for the row's lock: it takes the provider's
# advisory lock, which reads of the generation wait for
# (``rp.claimant_postgresql``).  A claim the row's version in its
# snapshot already refutes takes no lock, and fails at once.
_CLAIMANT_POSTGRESQL = _if_expected(
    rp.claimant_postgresql(sa.bindparam('rp_uuid')), otherwise=sa.false())

# PostgreSQL claims in one round trip: the UPDATE (a data-modifying CTE,
# which waits for the row lock and re-checks the generation on the
# latest row version) and a read of the provider that tells "no such
# provider" (no row) from "another generation" (no claimed row), with,
# when asked, what is linked to it.
CLAIMED_POSTGRESQL = (
    sa.update(RP).where(RP.c.uuid == sa.bindparam('rp_uuid'),
                        RP.c.generation == sa.bindparam('expected'),
                        _CLAIMANT_POSTGRESQL)
    .values(generation=RP.c.generation + 1, updated_at=sa.bindparam('now'))
    .returning(RP.c.id, RP.c.generation, RP.c.updated_at)
    .cte('claimed'))


# ... and the same claim for a statement that goes on to read what
# writers of the provider change, in the statement's snapshot: that
# snapshot was taken before the claim waited for any concurrent writer
# of the row, so the claim also fails when the row it would claim is no
# longer the version the snapshot sees -- when a writer that leaves the
# generation as it is (aggregates before 1.19) committed meanwhile.
_SNAPSHOT_ROW = RP.alias('snapshot_row')


def claimed_in_snapshot_postgresql(*conditions):
    """That claim's CTE, claiming only where ``conditions`` hold too."""
    return (
        sa.update(RP).where(
            RP.c.uuid == sa.bindparam('rp_uuid'),
            RP.c.generation == sa.bindparam('expected'),
            _CLAIMANT_POSTGRESQL,
            sa.literal_column('resource_providers.ctid') == sa.select(
                sa.literal_column('snapshot_row.ctid'))
            .where(_SNAPSHOT_ROW.c.uuid == sa.bindparam('rp_uuid'))
            .scalar_subquery(),
            # A condition that reads no column of the row would be
            # checked once, before the row is read: for a stale claim
            # too.
            *[_if_expected(condition, otherwise=sa.false())
              for condition in conditions])
        .values(generation=RP.c.generation + 1,
                updated_at=sa.bindparam('now'))
        .returning(RP.c.id, RP.c.generation, RP.c.updated_at)
        .cte('claimed'))


def claim_statement_postgresql(kind=None, claimed=CLAIMED_POSTGRESQL):
    """The PostgreSQL claim statement (CTE ``claimed``), with what
    ``kind`` links to the provider when given; its answer is for
    ``claimed_postgresql``."""
    columns = [RP.c.id, RP.c.uuid, RP.c.generation,
               claimed.c.generation.label('claimed_generation'),
               claimed.c.updated_at.label('claimed_updated_at')]
    if kind is not None:
        columns.append(rp.linked_string(kind, claimed.c.id))
    return (sa.select(*columns)
            .select_from(RP.outerjoin(claimed, claimed.c.id == RP.c.id))
            .where(RP.c.uuid == sa.bindparam('rp_uuid')))


_CLAIM_POSTGRESQL = {(kind, False): claim_statement_postgresql(kind)
                     for kind in (None, 'traits', 'inventories')}


def _named_traits_postgresql():
    """PostgreSQL: the traits a write names (parameter ``named``: an
    array literal of names, looked up by a join: a list of parameters
    costs the server a plan per call) that exist, as one 'id:name,...'
    string."""
    asked = sa.func.unnest(sa.cast(
        sa.bindparam('named'), postgresql.ARRAY(sa.String))) \
        .table_valued('name').render_derived()
    return (sa.select(rp.joined(sa.cast(_TRAITS.c.id, sa.String) + ':'
                                + _TRAITS.c.name))
            .select_from(asked.join(_TRAITS, _TRAITS.c.name == asked.c.name))
            .scalar_subquery().label('named'))


_CLAIM_POSTGRESQL['traits', True] = _CLAIM_POSTGRESQL[
    'traits', False].add_columns(_when_expected(_named_traits_postgresql()))


def claimed_postgresql(conn, row, uuid, generation, conflict_message):
    """The provider ``uuid`` a PostgreSQL claim statement answered ``row``
    for; raises ResourceProviderNotFound or ConcurrentUpdateDetected."""
    if row is None or (row.claimed_generation is None
                       and row.generation != generation):
        # No such provider, or one whose generation already differed
        # in the statement's snapshot: the UPDATE locked nothing.
        # (One that matched there waited for a concurrent writer and
        # may keep a lock on the row version it then re-checked.)
        sql.holds_nothing(conn)
    if row is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    if row.claimed_generation is None:
        raise errors.ConcurrentUpdateDetected(conflict_message)
    return rp.ResourceProvider.brief(
        row.id, row.uuid, row.claimed_generation,
        updated_at=row.claimed_updated_at)


# MariaDB/MySQL: the claim's increment, sent with its locking read.
INCREMENT_BY_UUID = (
    sa.update(RP)
    .where(RP.c.uuid == sa.bindparam('then_uuid'),
           RP.c.generation == sa.bindparam('then_expected'))
    .values(generation=RP.c.generation + sa.literal_column('1'),
            updated_at=sa.bindparam('then_now')))
# ... and, when the claim is the transaction's first statement, what
# ends the transaction in the same round trip unless the increment
# changed the row: turning autocommit on commits a transaction that
# wrote nothing (and turning it off again starts no other).  A stale
# write then holds the provider's row lock only while the database runs
# its claim, and needs no ROLLBACK.
_END_UNLESS_INCREMENTED = sa.text(
    'SET autocommit = IF(ROW_COUNT() > 0, 0, 1), autocommit = 0')


def claim(conn, uuid, generation, conflict_message=None, linked=None,
          named=None):
    """Lock the provider at ``uuid`` for this transaction, check that its
    generation is ``generation`` and increment it (see the module's
    docstring).  Raises ResourceProviderNotFound, or
    ConcurrentUpdateDetected (with ``conflict_message``).

    The provider is brief (``rp.ResourceProvider.brief``), its updated_at
    the moment of the claim.  With ``linked`` ('traits', 'aggregates' or
    'inventories') the answer is (provider, {id: name} of its current
    traits or aggregates, or
    {resource class id: None} of its inventories), read under the lock.
    With ``named`` too (aggregate uuids with linked='aggregates' on
    MariaDB/MySQL and SQLite, trait names with linked='traits' on
    PostgreSQL) it has a third item: {uuid or name: id} of those named
    that exist (read without locking them).  (PostgreSQL offers no
    'aggregates': there ``claim_and_set_aggregates`` claims and writes
    them in one statement.)
    """
    if named is not None and not named:
        named = None
        known = {}
    else:
        known = None
    if conn.dialect.name == 'postgresql':
        params = {'rp_uuid': uuid, 'expected': generation,
                  'now': sql.utcnow()}
        if named is not None:
            params['named'] = sql.array_literal(sorted(named))
        row = sql.execute(conn, _CLAIM_POSTGRESQL[
            linked, named is not None], params).first()
        provider = claimed_postgresql(conn, row, uuid, generation,
                                      conflict_message)
    else:
        # MariaDB/MySQL lock the provider's row in this read; SQLite's
        # write transaction already holds the database.
        mysql = conn.dialect.name in ('mysql', 'mariadb')
        params = {'uuid': uuid, 'expected': _storable(generation)}
        if linked == 'aggregates':
            params['newest'] = aggregate.newest_remembered(conn)
        statement = _CLAIM_READS[mysql, linked, named is not None]
        if named is not None:
            params['named'] = sorted(named)
        now = sql.utcnow_as_stored(conn)
        then = ending = None
        if sql.sends_together(conn):
            # The increment goes in the same round trip; it changes
            # nothing when the read shows another generation.
            ending = db_engine.nothing_done_yet(conn)
            then = ((INCREMENT_BY_UUID, _END_UNLESS_INCREMENTED) if ending
                    else INCREMENT_BY_UUID, {'then_uuid': uuid,
                                             'then_expected': generation,
                                             'then_now': now})
        row = sql.execute(conn, statement, params, then=then).first()
        if ending and (row is None or row.generation != generation):
            db_engine.ended_transaction(conn)
        if row is None:
            raise errors.ResourceProviderNotFound(uuid=uuid)
        provider = rp.ResourceProvider.brief(row.id, rp.stored_uuid(uuid),
                                             row.generation)
        if provider.generation != generation:
            raise errors.ConcurrentUpdateDetected(conflict_message)
        if then is None:
            provider.increment_generation(conn)
        else:
            provider.generation += 1
            provider.updated_at = now
    provider.claimed = True
    if linked == 'aggregates':
        current = aggregate.linked_by_id(conn, row.linked)
    else:
        current = _parse_linked(row.linked) if linked else None
    if named is not None:
        known = {value: value_id for value_id, value
                 in _parse_linked(row.named).items()}
    if known is not None:
        return provider, current, known
    return (provider, current) if linked else provider


def _claim_and_replace_aggregates_postgresql():
    """PostgreSQL: one statement claiming the provider and making the
    aggregates its parameters name (``aggregate.replacing_postgresql``)
    exactly the provider's, answering as ``claim_statement_postgresql``.
    Nothing is written unless the claim succeeds."""
    claimed = claimed_in_snapshot_postgresql()
    removed, added = aggregate.replacing_postgresql(claimed)
    return claim_statement_postgresql(claimed=claimed).add_cte(
        removed, added.cte('added'))


_CLAIM_AND_REPLACE_AGGREGATES_POSTGRESQL = (
    _claim_and_replace_aggregates_postgresql())


def claim_and_set_aggregates(conn, uuid, generation, aggregate_uuids,
                             conflict_message=None):
    """Claim the provider at ``uuid`` (``claim``) and make
    ``aggregate_uuids`` (canonical) exactly its aggregates, as the whole
    of the transaction: on PostgreSQL the claim and one statement (so a
    claim that fails costs no more than any other), elsewhere a claim
    and the changes it needs.  Answers the provider."""
    if conn.dialect.name == 'postgresql':
        params = aggregate.replacing_parameters_postgresql(
            conn, aggregate_uuids)
        params.update(rp_uuid=uuid, expected=generation)
        row = sql.execute(conn, _CLAIM_AND_REPLACE_AGGREGATES_POSTGRESQL,
                          params, last=True).first()
        return claimed_postgresql(conn, row, uuid, generation,
                                  conflict_message)
    if sql.sends_together(conn):
        # The aggregates not linked yet are created unless they exist and
        # added by uuid, in the round trip that commits: no need to look
        # up which of them exist first.
        provider, current = claim(conn, uuid, generation, conflict_message,
                                  linked='aggregates')
        known = {}
    else:
        provider, current, known = claim(
            conn, uuid, generation, conflict_message, linked='aggregates',
            named=aggregate_uuids)
    provider.set_aggregates(conn, aggregate_uuids, increment_generation=True,
                            last=True, current=current, known=known)
    return provider


# PostgreSQL: a write that changes a provider's aggregates without
# claiming it takes the provider's row lock (writing the row unchanged),
# as claims do: writers of a provider's aggregates run one at a time.
_TOUCH_POSTGRESQL = (
    sa.update(RP).where(RP.c.uuid == sa.bindparam('rp_uuid'))
    .values(generation=RP.c.generation, updated_at=RP.c.updated_at)
    .returning(RP.c.id, RP.c.uuid, RP.c.generation))


def set_aggregates_unclaimed(conn, uuid, aggregate_uuids):
    """Make ``aggregate_uuids`` (canonical) exactly the aggregates of the
    provider at ``uuid``, leaving its generation as it is (microversions
    before 1.19), as the whole of the transaction.  Answers the provider
    (brief); raises ResourceProviderNotFound."""
    if conn.dialect.name == 'postgresql':
        row = sql.execute(conn, _TOUCH_POSTGRESQL, {'rp_uuid': uuid}).first()
        if row is None:
            sql.holds_nothing(conn)
            raise errors.ResourceProviderNotFound(uuid=uuid)
        provider = rp.ResourceProvider.brief(*row)
    else:
        provider = rp.get_by_uuid(conn, uuid, for_update=True)
    provider.set_aggregates(conn, aggregate_uuids, increment_generation=False,
                            last=True)
    return provider


def _claim_and_replace_traits_postgresql():
    """PostgreSQL: one statement claiming the provider and making the
    traits ``ids`` (parameter: an array literal of ids of traits that
    exist and are never deleted) exactly the provider's, answering as
    ``claim_statement_postgresql`` with ``changes``: whether they differ
    from the provider's traits in the statement's snapshot.  It claims
    and writes only when they do."""
    links = trait.RPT
    wanted = sa.select(sa.func.unnest(sa.cast(
        sa.bindparam('ids'), postgresql.ARRAY(sa.Integer))).label('id')
    ).cte('wanted')
    current = (sa.select(links.c.trait_id)
               .select_from(links.join(RP, RP.c.id
                                       == links.c.resource_provider_id))
               .where(RP.c.uuid == sa.bindparam('rp_uuid')).cte('current'))
    changes = sa.or_(
        sa.exists(sa.select(wanted.c.id).where(
            wanted.c.id.not_in(sa.select(current.c.trait_id)))),
        sa.exists(sa.select(current.c.trait_id).where(
            current.c.trait_id.not_in(sa.select(wanted.c.id)))))
    claimed = claimed_in_snapshot_postgresql(changes)
    provider_id = sa.select(claimed.c.id).scalar_subquery()
    removed = sa.delete(links).where(
        links.c.resource_provider_id == provider_id,
        links.c.trait_id.not_in(sa.select(wanted.c.id))).cte('removed')
    added = sa.insert(links).from_select(
        ['trait_id', 'resource_provider_id', 'created_at'],
        sa.select(wanted.c.id, provider_id,
                  sa.bindparam('now', type_=sa.DateTime))
        .where(wanted.c.id.not_in(sa.select(current.c.trait_id)),
               sa.exists(sa.select(claimed.c.id)))).cte('added')
    return (claim_statement_postgresql(claimed=claimed)
            .add_columns(_when_expected(changes.label('changes')))
            .add_cte(removed, added))


_CLAIM_AND_REPLACE_TRAITS_POSTGRESQL = _claim_and_replace_traits_postgresql()


def _claim_and_set_standard_traits_postgresql(conn, uuid, generation, ids,
                                              conflict_message):
    """``claim_and_set_traits`` in one statement, for the standard traits
    ``ids`` ({name: id}) as the whole of a PostgreSQL transaction."""
    row = sql.execute(conn, _CLAIM_AND_REPLACE_TRAITS_POSTGRESQL, {
        'rp_uuid': uuid, 'expected': generation, 'now': sql.utcnow(),
        'ids': sql.integer_array_literal(ids.values())},
        last=True).first()
    if row is not None and row.claimed_generation is None and \
            row.generation == generation and not row.changes:
        # Nothing to change: the generation is as it was.
        provider = rp.ResourceProvider.brief(row.id, row.uuid, generation)
    else:
        provider = claimed_postgresql(conn, row, uuid, generation,
                                      conflict_message)
    return provider, sorted(ids)


def _check_traits_exist(found, names):
    """Raise InvalidInput naming those of ``names`` not in ``found``."""
    missing = [name for name in names if name not in found]
    if missing:
        raise errors.InvalidInput('No such trait %s' % ', '.join(missing))


def claim_and_set_traits(conn, uuid, generation, names,
                         conflict_message=None):
    """Claim the provider at ``uuid`` (``claim``) and make the traits
    ``names`` exactly its traits, as the whole of the transaction.
    Answers (provider, sorted names).

    Raises ResourceProviderNotFound, ConcurrentUpdateDetected, or
    InvalidInput naming traits that do not exist.  A write that changes
    nothing leaves the generation as it is (and is still checked).
    Which of the named traits exist is read without locking them (on
    PostgreSQL by the claim): a trait deleted before the write links it
    fails the link's foreign key, and the write is run again
    (``engine.is_retryable``).  On PostgreSQL, standard traits are
    written with the claim, in one statement; on MariaDB/MySQL one round
    trip writes.
    """
    names = list(dict.fromkeys(names))
    if conn.dialect.name == 'postgresql' and \
            db_engine.nothing_done_yet(conn):
        ids = trait.standard_ids(conn, names)
        if ids is not None:
            return _claim_and_set_standard_traits_postgresql(
                conn, uuid, generation, ids, conflict_message)
    if conn.dialect.name == 'postgresql':
        provider, current, found = claim(
            conn, uuid, generation, conflict_message, linked='traits',
            named=[name for name in names if trait.storable(name)])
    else:
        # A claim sent with every name would cost the many claims that
        # fail: only the traits the provider lacks are looked up, after.
        provider, current = claim(conn, uuid, generation, conflict_message,
                                  linked='traits')
        have = {name: trait_id for trait_id, name in current.items()}
        found = trait.find_ids(
            conn, [name for name in names if name not in have])
        found.update((name, have[name]) for name in names if name in have)
    _check_traits_exist(found, names)
    wanted = set(found.values())
    if wanted == set(current):
        provider.generation = generation
        return db_database.Unchanged((provider, sorted(found)))
    provider.set_traits(conn, wanted, set(current), last=True)
    return provider, sorted(found)
