"""Data-layer tests of placement/objects/claim.py: claims of a provider's
generation and the aggregates and traits writes that start with one, on
every backend in PLACEMENT_TEST_DBS, racing writers included."""

import threading

import pytest
import sqlalchemy as sa

from placement import errors
from placement.api import provider_subresource
from placement.db import sql
from placement.db import tables
from placement.objects import aggregate
from placement.objects import allocation
from placement.objects import claim
from placement.objects import resource_provider as rp
from placement.objects import trait
from tests import test_allocations
from tests.test_resource_provider import count, create, get, new_uuid


@pytest.mark.parametrize('linked', [None, 'traits', 'inventories'])
def test_claim_checks_and_bumps_the_generation(database, linked):
    provider = create(database, 'claimed')
    claimed = database.write(claim.claim, provider.uuid, 0, 'stale', linked)
    if linked:
        claimed, current = claimed
        assert current == {}
    assert claimed.generation == 1
    assert get(database, provider).generation == 1
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(claim.claim, provider.uuid, 0, 'stale', linked)
    with pytest.raises(errors.ResourceProviderNotFound):
        database.write(claim.claim, new_uuid(), 1, 'stale', linked)
    assert get(database, provider).generation == 1


def test_claim_and_set_aggregates(database):
    """The claim checks and bumps the generation; the named aggregates,
    existing ones and new ones, replace the provider's."""
    provider = create(database, 'member')
    other = create(database, 'other')
    member, elsewhere, unknown = new_uuid(), new_uuid(), new_uuid()
    database.write(claim.set_aggregates_unclaimed, provider.uuid, [member])
    database.write(claim.set_aggregates_unclaimed, other.uuid, [elsewhere])
    assert get(database, provider).generation == 0

    claimed = database.write(claim.claim_and_set_aggregates, provider.uuid, 0,
                             [elsewhere, unknown])
    assert claimed.generation == 1
    assert get(database, provider).generation == 1
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == \
        sorted([elsewhere, unknown])
    assert database.read(rp.get_with_aggregates, other.uuid)[1] == \
        [elsewhere]
    # Aggregates are shared rows; the one no longer used stays.
    assert count(database, tables.placement_aggregates) == 3

    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(claim.claim_and_set_aggregates, provider.uuid, 0, [])
    with pytest.raises(errors.ResourceProviderNotFound):
        database.write(claim.claim_and_set_aggregates, new_uuid(), 0, [])
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == \
        sorted([elsewhere, unknown])
    assert count(database, tables.placement_aggregates) == 3

    claimed = database.write(claim.claim_and_set_aggregates, provider.uuid, 1,
                             [])
    assert claimed.generation == 2
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == []


def write_while_held(database, hold, write, *args):
    """Run ``hold(conn)`` in a write transaction and keep that open while
    ``database.write(write, *args)`` runs in another thread, which must
    wait for it; then let the first commit.  Answers what the second
    write returned, or the exception it raised."""
    held, release = threading.Event(), threading.Event()

    def first(conn):
        hold(conn)
        held.set()
        assert release.wait(10)

    holder = threading.Thread(target=database.write, args=(first,))
    holder.start()
    assert held.wait(10)
    outcome = []

    def second():
        try:
            outcome.append(database.write(write, *args))
        except Exception as error:
            outcome.append(error)

    writer = threading.Thread(target=second)
    writer.start()
    writer.join(0.5)
    assert writer.is_alive()  # waiting for the first
    release.set()
    holder.join(10)
    writer.join(30)
    assert len(outcome) == 1
    return outcome[0]


def unclaimed(provider, uuids):
    """A write making ``uuids`` the provider's aggregates as before 1.19
    (the generation kept), leaving its transaction open."""
    def write(conn):
        if conn.dialect.name == 'postgresql':
            row = conn.execute(claim._TOUCH_POSTGRESQL,
                               {'rp_uuid': provider.uuid}).first()
            provider_id = row.id
        else:
            provider_id = rp.get_by_uuid(conn, provider.uuid, True).id
        aggregate.replace(conn, provider_id, uuids)
    return write


def test_a_claim_waiting_for_an_unclaimed_aggregates_write(database):
    """A generation-checked aggregates write that waits for one before
    1.19 (which leaves the generation as it is) never loses what that one
    wrote.  PostgreSQL claims and writes in one statement, whose snapshot
    predates the other write: the claim fails there, a concurrent update
    like any other, and the other's set stands.  Elsewhere it then
    replaces the other's set as a whole: what it writes is read after the
    wait."""
    provider = create(database, 'waited')
    before, theirs, ours = new_uuid(), new_uuid(), new_uuid()
    database.write(claim.set_aggregates_unclaimed, provider.uuid, [before])

    outcome = write_while_held(database, unclaimed(provider, [theirs]),
                               claim.claim_and_set_aggregates, provider.uuid,
                               0, [before, ours])
    if database.engine.dialect.name == 'postgresql':
        assert isinstance(outcome, errors.ConcurrentUpdateDetected)
        assert get(database, provider).generation == 0
        assert database.read(rp.get_with_aggregates, provider.uuid)[1] == \
            [theirs]
        return
    assert isinstance(outcome, rp.ResourceProvider)
    assert outcome.generation == 1
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == \
        sorted([before, ours])


def test_replace_links_an_aggregate_created_since_the_claim(database):
    """An aggregate the claim did not see (another request created it
    meanwhile) is still linked, with the existing row's id."""
    provider = create(database, 'late')
    other = create(database, 'early')
    kept, late, fresh = new_uuid(), new_uuid(), new_uuid()
    database.write(lambda conn: rp.get_by_uuid(conn, provider.uuid)
                   .set_aggregates(conn, [kept], False))
    kept_id = database.read(aggregate.ids_by_uuid, [kept])[kept]
    database.write(lambda conn: rp.get_by_uuid(conn, other.uuid)
                   .set_aggregates(conn, [late], False))
    late_id = database.read(aggregate.ids_by_uuid, [late])[late]

    database.write(aggregate.replace, provider.id, [kept, late, fresh],
                   last=True, current={kept_id: kept}, known={})
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == \
        sorted([kept, late, fresh])
    ids = database.read(aggregate.ids_by_uuid, [kept, late, fresh])
    assert ids[late] == late_id and ids[kept] == kept_id
    assert count(database, tables.placement_aggregates) == 3


def waits_for_the_write(database, write, waiter):
    """Run ``write(conn)`` in a write transaction on one thread, keeping
    the transaction open; meanwhile run ``waiter`` on another thread and
    check that it is still waiting half a second later.  Then end the
    write's transaction and let both finish."""
    written, release = threading.Event(), threading.Event()

    def held(conn):
        write(conn)
        written.set()
        release.wait(10)

    writer = threading.Thread(target=database.write, args=(held,))
    writer.start()
    assert written.wait(10)
    waiting = threading.Thread(target=waiter)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()
    release.set()
    writer.join(10)
    waiting.join(30)


def test_custom_trait_delete_waits_for_a_write_adding_it(database):
    """A trait write that has linked a custom trait holds it against a
    concurrent delete (through the link's foreign key): the delete waits,
    then finds the trait in use."""
    provider = create(database, 'racing')
    database.write(trait.ensure_custom, 'CUSTOM_RACE')
    outcome = []

    def write(conn):
        claimed_provider, current = claim.claim(conn, provider.uuid, 0,
                                                'stale', 'traits')
        found = trait.find_ids(conn, ['CUSTOM_RACE'])
        assert set(found) == {'CUSTOM_RACE'}
        claimed_provider.set_traits(conn, set(found.values()), set(current))

    def delete():
        try:
            database.write(trait.delete_custom, 'CUSTOM_RACE')
            outcome.append('deleted')
        except errors.InUse:
            outcome.append('in use')

    waits_for_the_write(database, write, delete)
    assert outcome == ['in use']
    assert database.read(rp.get_with_traits, provider.uuid)[1] == \
        ['CUSTOM_RACE']


def test_trait_deleted_while_a_write_adds_it(database):
    """A custom trait deleted after a trait write looked it up, but before
    the write linked it: the write's link waits for the delete, fails the
    foreign key, and the write, run again, says the trait is missing.
    Nothing is written."""
    if database.backend == 'sqlite':
        pytest.skip('SQLite runs one write transaction at a time')
    provider = create(database, 'late-delete')
    database.write(trait.ensure_custom, 'CUSTOM_GOING')
    outcome = []

    def write():
        try:
            outcome.append(database.write(
                claim.claim_and_set_traits, provider.uuid, 0,
                ['CUSTOM_GOING']))
        except errors.InvalidInput as error:
            outcome.append(str(error))

    with database.engine.connect() as conn:
        conn.execute(tables.traits.delete().where(
            tables.traits.c.name == 'CUSTOM_GOING'))
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive()  # waiting for the deleted row's lock
        conn.commit()
    writer.join(30)
    assert outcome == ['No such trait CUSTOM_GOING']
    assert get(database, provider).generation == 0
    assert traits_of(database, provider) == []


def traits_of(database, provider):
    return database.read(rp.get_with_traits, provider.uuid)[1]


def test_claim_and_set_traits(database):
    provider = create(database, 'traits')
    database.write(trait.ensure_custom, 'CUSTOM_ONE')
    database.write(trait.ensure_custom, 'CUSTOM_TWO')
    write = claim.claim_and_set_traits

    claimed, names = database.write(write, provider.uuid, 0,
                                    ['CUSTOM_ONE', 'HW_CPU_X86_AVX2'])
    assert (claimed.generation, names) == (1, ['CUSTOM_ONE',
                                               'HW_CPU_X86_AVX2'])
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == ['CUSTOM_ONE', 'HW_CPU_X86_AVX2']

    # The same set again (repeats and order aside): nothing changes, not
    # even the generation, which is still checked.
    claimed, names = database.write(write, provider.uuid, 1, [
        'HW_CPU_X86_AVX2', 'CUSTOM_ONE', 'CUSTOM_ONE'])
    assert claimed.generation == 1
    assert names == ['CUSTOM_ONE', 'HW_CPU_X86_AVX2']
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write, provider.uuid, 0, ['CUSTOM_ONE'])

    # A trait that does not exist (or cannot): nothing is written.
    for missing in ('CUSTOM_NONE', 'CUSTOM_\x00'):
        with pytest.raises(errors.InvalidInput) as caught:
            database.write(write, provider.uuid, 1, ['CUSTOM_TWO', missing])
        assert str(caught.value).endswith('No such trait %s' % missing)
    # A stale generation is told before a missing trait.
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write, provider.uuid, 0, ['CUSTOM_NONE'])
    with pytest.raises(errors.ResourceProviderNotFound):
        database.write(write, new_uuid(), 0, ['CUSTOM_ONE'])
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == ['CUSTOM_ONE', 'HW_CPU_X86_AVX2']

    claimed, names = database.write(write, provider.uuid, 1, ['CUSTOM_TWO'])
    assert (claimed.generation, names) == (2, ['CUSTOM_TWO'])
    assert traits_of(database, provider) == ['CUSTOM_TWO']
    claimed, names = database.write(write, provider.uuid, 2, [])
    assert (claimed.generation, names) == (3, [])
    assert traits_of(database, provider) == []


def test_claim_and_set_standard_traits(database):
    """Writes naming only standard traits (on PostgreSQL one statement
    that claims and writes) behave as any other."""
    provider = create(database, 'standard')
    write = claim.claim_and_set_traits
    avx2, sse2, ssd = 'HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE2', 'STORAGE_DISK_SSD'

    claimed, names = database.write(write, provider.uuid, 0,
                                    [sse2, avx2, sse2])
    assert (claimed.generation, names) == (1, [avx2, sse2])
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == [avx2, sse2]
    # The same set: nothing changes, not even the generation...
    claimed, names = database.write(write, provider.uuid, 1, [avx2, sse2])
    assert (claimed.generation, names) == (1, [avx2, sse2])
    assert get(database, provider).generation == 1
    # ... which is still checked.
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write, provider.uuid, 0, [avx2, sse2])
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write, provider.uuid, 2, [ssd])
    with pytest.raises(errors.ResourceProviderNotFound):
        database.write(write, new_uuid(), 0, [ssd])
    assert traits_of(database, provider) == [avx2, sse2]

    # One kept, one removed, one added; then a subset; then none.
    claimed, names = database.write(write, provider.uuid, 1, [ssd, avx2])
    assert (claimed.generation, names) == (2, [avx2, ssd])
    assert traits_of(database, provider) == [avx2, ssd]
    claimed, names = database.write(write, provider.uuid, 2, [ssd])
    assert (claimed.generation, names) == (3, [ssd])
    assert traits_of(database, provider) == [ssd]
    claimed, names = database.write(write, provider.uuid, 3, [])
    assert (claimed.generation, names) == (4, [])
    assert traits_of(database, provider) == []
    assert get(database, provider).generation == 4
    # Nothing to remove, and nothing asked for.
    claimed, names = database.write(write, provider.uuid, 4, [])
    assert (claimed.generation, names) == (4, [])


def test_claim_and_set_custom_traits(database):
    """Writes naming custom traits (a claim, then a share-locked lookup
    of the traits the provider lacks) write nothing when a trait is
    missing, and name every missing one."""
    provider = create(database, 'custom')
    write = claim.claim_and_set_traits
    avx2, gold, silver = 'HW_CPU_X86_AVX2', 'CUSTOM_GOLD', 'CUSTOM_SILVER'
    for name in (gold, silver):
        database.write(trait.ensure_custom, name)

    claimed, names = database.write(write, provider.uuid, 0,
                                    [silver, avx2, gold])
    assert (claimed.generation, names) == (1, [gold, silver, avx2])
    assert traits_of(database, provider) == [gold, silver, avx2]
    # The same set, in another order: no change, not even the generation.
    claimed, names = database.write(write, provider.uuid, 1,
                                    [gold, silver, avx2])
    assert (claimed.generation, names) == (1, [gold, silver, avx2])
    assert get(database, provider).generation == 1

    for missing in (['CUSTOM_NONE'], ['CUSTOM_NONE', 'CUSTOM_"QUOTE'],
                    ['CUSTOM_NUL\x00']):
        with pytest.raises(errors.InvalidInput) as raised:
            database.write(write, provider.uuid, 1, [gold] + missing)
        assert str(raised.value).endswith(
            'No such trait %s' % ', '.join(missing))
    # A stale generation is told before a missing trait.
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(write, provider.uuid, 0, [gold, 'CUSTOM_NONE'])
    assert traits_of(database, provider) == [gold, silver, avx2]
    assert get(database, provider).generation == 1

    claimed, names = database.write(write, provider.uuid, 1, [silver])
    assert (claimed.generation, names) == (2, [silver])
    assert traits_of(database, provider) == [silver]
    # A trait the provider has cannot be deleted.
    with pytest.raises(errors.InUse):
        database.write(trait.delete_custom, silver)


def test_racing_standard_traits_writes(database):
    """A standard-traits write that waited for a concurrent write of the
    provider fails, whether that one changed the generation or only the
    provider's aggregates before 1.19; what the other wrote stays."""
    provider = create(database, 'raced-standard')
    avx2, ssd = 'HW_CPU_X86_AVX2', 'STORAGE_DISK_SSD'

    def first(conn):
        claimed, current = claim.claim(conn, provider.uuid, 0, None, 'traits')
        claimed.set_traits(conn, set(trait.find_ids(conn, [avx2]).values()),
                           set(current))

    outcome = write_while_held(database, first, claim.claim_and_set_traits,
                               provider.uuid, 0, [ssd])
    assert isinstance(outcome, errors.ConcurrentUpdateDetected)
    assert traits_of(database, provider) == [avx2]
    assert get(database, provider).generation == 1

    outcome = write_while_held(database, unclaimed(provider, [new_uuid()]),
                               claim.claim_and_set_traits, provider.uuid, 1,
                               [ssd])
    if database.engine.dialect.name == 'postgresql':
        # Its snapshot predates the other write.
        assert isinstance(outcome, errors.ConcurrentUpdateDetected)
        assert traits_of(database, provider) == [avx2]
    else:
        assert outcome[1] == [ssd]
        assert traits_of(database, provider) == [ssd]


def test_a_traits_write_waiting_for_a_trait_delete(database):
    """A write adding a custom trait that a concurrent delete removes
    first waits for the delete, then answers "no such trait" and writes
    nothing."""
    provider = create(database, 'late')
    database.write(trait.ensure_custom, 'CUSTOM_GOING')
    outcome = write_while_held(
        database, lambda conn: trait.delete_custom(conn, 'CUSTOM_GOING'),
        claim.claim_and_set_traits, provider.uuid, 0, ['CUSTOM_GOING'])
    assert isinstance(outcome, errors.InvalidInput)
    assert str(outcome).endswith('No such trait CUSTOM_GOING')
    assert traits_of(database, provider) == []
    assert get(database, provider).generation == 0


def test_racing_traits_writes(database):
    """Of two writes naming the same generation, the one that waited for
    the other's lock fails: the other's set stays."""
    provider = create(database, 'raced')
    database.write(trait.ensure_custom, 'CUSTOM_FIRST')
    database.write(trait.ensure_custom, 'CUSTOM_SECOND')

    def first(conn):
        claimed, current = claim.claim(conn, provider.uuid, 0, None, 'traits')
        claimed.set_traits(conn, set(trait.find_ids(
            conn, ['CUSTOM_FIRST']).values()), set(current))

    outcome = write_while_held(database, first, claim.claim_and_set_traits,
                               provider.uuid, 0, ['CUSTOM_SECOND'])
    assert isinstance(outcome, errors.ConcurrentUpdateDetected)
    assert traits_of(database, provider) == ['CUSTOM_FIRST']
    assert get(database, provider).generation == 1


def test_replacing_traits_and_aggregates_round_trips_on_mysql(
        database, monkeypatch):
    """MariaDB/MySQL: a write that removes some of a provider's traits
    (or aggregates) and adds others sends the claim, then one round trip
    that removes, adds and commits; a custom trait the provider lacks is
    looked up in one more, between them."""
    if database.backend != 'mysql':
        pytest.skip('MariaDB/MySQL only')
    from tests.test_engine import count_queries
    provider = create(database, 'round-trips')
    for name in ('CUSTOM_OLD', 'CUSTOM_NEW'):
        database.write(trait.ensure_custom, name)
    old, new = new_uuid(), new_uuid()
    database.write(claim.claim_and_set_traits, provider.uuid, 0,
                   ['CUSTOM_OLD', 'HW_CPU_X86_AVX2'])
    database.write(claim.claim_and_set_aggregates, provider.uuid, 1,
                   [old])

    sent = count_queries(monkeypatch)
    claimed, names = database.write(claim.claim_and_set_traits,
                                    provider.uuid, 2,
                                    ['CUSTOM_OLD', 'HW_CPU_X86_SSE2'])
    assert names == ['CUSTOM_OLD', 'HW_CPU_X86_SSE2']
    assert len(sent) == 2 and sent[1].rstrip().endswith('COMMIT')
    del sent[:]
    database.write(claim.claim_and_set_traits, provider.uuid, 3,
                   ['CUSTOM_NEW', 'HW_CPU_X86_SSE2'])
    assert len(sent) == 3 and 'CUSTOM_NEW' in sent[1]
    assert sent[2].rstrip().endswith('COMMIT')
    del sent[:]
    database.write(claim.claim_and_set_aggregates, provider.uuid, 4, [new])
    assert len(sent) == 2 and sent[1].rstrip().endswith('COMMIT')
    monkeypatch.undo()

    assert get(database, provider).generation == 5
    assert traits_of(database, provider) == ['CUSTOM_NEW', 'HW_CPU_X86_SSE2']
    assert database.read(rp.get_with_aggregates, provider.uuid)[1] == [new]


@pytest.mark.parametrize('kind', ['traits', 'aggregates', 'provider',
                                  'allocations'])
def test_read_waits_for_a_write_in_progress(database, kind, monkeypatch):
    """MariaDB/MySQL and PostgreSQL: a read of a provider (as the API
    reads the one its URL names), or of its traits or aggregates, during
    a write of the provider (a claim, or an allocation) waits for it, and
    answers the generation and the links that write made (not those it
    replaced)."""
    if database.backend == 'sqlite':
        pytest.skip('SQLite writes hold the whole database')
    if kind == 'allocations':
        # Inventory first: generation 1.
        provider = test_allocations.provider(database, 'written', VCPU=4)
    else:
        provider = create(database, 'written')
    aggregate_uuid = new_uuid()
    answers = []
    writes = {
        'traits': lambda conn: claim.claim_and_set_traits(
            conn, provider.uuid, 0, ['HW_CPU_X86_AVX2']),
        'aggregates': lambda conn: claim.claim_and_set_aggregates(
            conn, provider.uuid, 0, [aggregate_uuid]),
        'provider': lambda conn: claim.claim(conn, provider.uuid, 0),
        'allocations': lambda conn: allocation.replace(conn, [
            test_allocations.request(new_uuid(),
                                     {provider.uuid: {'VCPU': 1}})])}
    read_provider = (lambda conn, uuid: (
        provider_subresource.get_provider(conn, uuid), None))
    reads = {'traits': rp.get_with_traits,
             'aggregates': rp.get_with_aggregates,
             'provider': read_provider, 'allocations': read_provider}

    def read():
        answers.append(database.read(reads[kind], provider.uuid))

    # The write's statements, sent without their COMMIT: it comes when
    # the write returns, once released.
    execute = sql.execute
    monkeypatch.setattr(sql, 'execute', lambda *args, last=False, **kwargs:
                        execute(*args, **kwargs))
    waits_for_the_write(database, writes[kind], read)
    (answered, links), = answers
    assert answered.generation == (2 if kind == 'allocations' else 1)
    assert links == {'traits': ['HW_CPU_X86_AVX2'],
                     'aggregates': [aggregate_uuid]}.get(kind)


def test_replacing_custom_traits_is_two_round_trips_on_postgresql(database):
    """PostgreSQL: a write replacing some of a provider's custom traits
    with others sends the claim, which also looks the named traits up,
    then one statement that removes and adds, with the COMMIT."""
    if database.backend != 'postgresql':
        pytest.skip('PostgreSQL only')
    provider = create(database, 'round-trips')
    for name in ('CUSTOM_OLD', 'CUSTOM_NEW'):
        database.write(trait.ensure_custom, name)
    database.write(claim.claim_and_set_traits, provider.uuid, 0,
                   ['CUSTOM_OLD'])
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    engines = {database.engine, database.read_engine}
    for engine in engines:
        sa.event.listen(engine, 'after_cursor_execute', record)
    try:
        claimed, names = database.write(claim.claim_and_set_traits,
                                        provider.uuid, 1, ['CUSTOM_NEW'])
    finally:
        for engine in engines:
            sa.event.remove(engine, 'after_cursor_execute', record)
    assert names == ['CUSTOM_NEW'] and claimed.generation == 2
    assert len(sent) == 2 and sent[1].rstrip().endswith('COMMIT')
    assert traits_of(database, provider) == ['CUSTOM_NEW']
