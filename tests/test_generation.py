"""The generation rule and the writes built on it, on every backend:
compare-and-increment, stale writers, whole-transaction rollback,
``set_aggregates`` and ``set_traits``, and two writers racing from the
same read."""

import threading
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from placement import errors
from placement.db import tables
from placement.objects import aggregate
from placement.objects import resource_provider as rp
from placement.objects import trait

AVX, SSE, SSE2 = 'HW_CPU_X86_AVX', 'HW_CPU_X86_SSE', 'HW_CPU_X86_SSE2'


def new_uuid():
    return str(uuidlib.uuid4())


@pytest.fixture
def provider(database):
    return database.write(rp.create, new_uuid(), 'rp')


def fresh(database, provider):
    return database.read(rp.get_by_uuid, provider.uuid)


def trait_ids(database, *names):
    return list(database.read(trait.ids_for_names, names).values())


def traits_of(database, provider):
    return database.read(rp.get_with_traits, provider.uuid)[1]


def aggregates_of(database, provider):
    return database.read(rp.get_with_aggregates, provider.uuid)[1]


def test_increment(database, provider):
    database.write(lambda conn: provider.increment_generation(conn))
    assert provider.generation == 1
    assert fresh(database, provider).generation == 1
    database.write(lambda conn: provider.increment_generation(conn))
    assert fresh(database, provider).generation == 2


def test_stale_generation_raises_and_writes_nothing(database, provider):
    stale = fresh(database, provider)
    database.write(lambda conn: provider.increment_generation(conn))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: stale.increment_generation(conn))
    assert stale.generation == 0
    assert fresh(database, provider).generation == 1


def test_failed_compare_rolls_back_earlier_statements(database, provider):
    """A write that changed rows before its generation check failed
    leaves nothing behind."""
    stale = fresh(database, provider)
    database.write(lambda conn: provider.increment_generation(conn))
    agg = new_uuid()

    def change_then_check(conn):
        aggregate.replace(conn, stale.id, [agg])
        conn.execute(sa.update(tables.resource_providers)
                     .where(tables.resource_providers.c.id == stale.id)
                     .values(name='renamed'))
        stale.increment_generation(conn)

    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(change_then_check)
    after = fresh(database, provider)
    assert (after.name, after.generation) == ('rp', 1)
    assert aggregates_of(database, provider) == []
    assert database.read(lambda conn: conn.execute(
        sa.select(tables.placement_aggregates.c.uuid)).all()) == []


def test_generation_of_deleted_provider(database, provider):
    child = database.write(rp.create, new_uuid(), 'child', provider.uuid)
    database.write(rp.delete, child.uuid)
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: child.increment_generation(conn))


# -- set_aggregates ---------------------------------------------------

def test_set_aggregates_without_increment(database, provider):
    first, second = sorted([new_uuid(), new_uuid()])
    database.write(lambda conn: provider.set_aggregates(
        conn, [first, second], increment_generation=False))
    assert aggregates_of(database, provider) == [first, second]
    assert fresh(database, provider).generation == 0
    # Without the increment a stale object still writes (before 1.19).
    stale = fresh(database, provider)
    database.write(lambda conn: provider.increment_generation(conn))
    database.write(lambda conn: stale.set_aggregates(
        conn, [second], increment_generation=False))
    assert aggregates_of(database, provider) == [second]
    assert fresh(database, provider).generation == 1


def test_set_aggregates_with_increment(database, provider):
    first, second, third = sorted(new_uuid() for _ in range(3))
    database.write(lambda conn: provider.set_aggregates(
        conn, [first, second], increment_generation=True))
    assert provider.generation == 1
    assert fresh(database, provider).generation == 1
    database.write(lambda conn: provider.set_aggregates(
        conn, [second, third], increment_generation=True))
    assert aggregates_of(database, provider) == [second, third]
    assert fresh(database, provider).generation == 2
    database.write(lambda conn: provider.set_aggregates(
        conn, [], increment_generation=True))
    assert aggregates_of(database, provider) == []
    assert fresh(database, provider).generation == 3


def test_set_aggregates_stale(database, provider):
    agg = new_uuid()
    stale = fresh(database, provider)
    database.write(lambda conn: provider.set_aggregates(
        conn, [agg], increment_generation=True))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: stale.set_aggregates(
            conn, [new_uuid()], increment_generation=True))
    assert aggregates_of(database, provider) == [agg]
    assert fresh(database, provider).generation == 1


def test_aggregates_are_shared_rows(database, provider):
    other = database.write(rp.create, new_uuid(), 'other')
    agg = new_uuid()
    for p in (provider, other):
        database.write(lambda conn: p.set_aggregates(conn, [agg], True))
    rows = database.read(lambda conn: conn.execute(
        sa.select(tables.placement_aggregates.c.uuid)).scalars().all())
    assert rows == [agg]
    assert aggregates_of(database, other) == [agg]
    assert database.read(aggregate.ids_by_uuid, [agg, new_uuid()]) == \
        database.read(aggregate.ids_by_uuid, [agg])


# -- set_traits -------------------------------------------------------

def test_set_traits(database, provider):
    database.write(lambda conn: provider.set_traits(
        conn, trait_ids(database, AVX, SSE)))
    assert traits_of(database, provider) == [AVX, SSE]
    assert fresh(database, provider).generation == 1
    database.write(lambda conn: provider.set_traits(
        conn, trait_ids(database, SSE, SSE2)))
    assert traits_of(database, provider) == [SSE, SSE2]
    assert fresh(database, provider).generation == 2
    database.write(lambda conn: provider.set_traits(conn, []))
    assert traits_of(database, provider) == []
    assert fresh(database, provider).generation == 3


def test_set_traits_stale(database, provider):
    stale = fresh(database, provider)
    database.write(lambda conn: provider.set_traits(
        conn, trait_ids(database, AVX)))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: stale.set_traits(
            conn, trait_ids(database, SSE)))
    assert traits_of(database, provider) == [AVX]
    assert fresh(database, provider).generation == 1


def test_unknown_trait_names(database):
    with pytest.raises(errors.TraitNotFound, match='CUSTOM_A, CUSTOM_B'):
        database.read(trait.ids_for_names, ['CUSTOM_B', AVX, 'CUSTOM_A'])


# -- two writers ------------------------------------------------------

def test_two_writers_from_one_read_in_turn(database, provider):
    first, second = fresh(database, provider), fresh(database, provider)
    database.write(lambda conn: first.set_traits(
        conn, trait_ids(database, AVX)))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: second.set_traits(
            conn, trait_ids(database, SSE)))
    assert traits_of(database, provider) == [AVX]
    assert fresh(database, provider).generation == 1


def _race(database, writers):
    """Run each ``fn(conn)`` of ``writers`` in its own thread and
    transaction, released together; the outcome of each."""
    barrier = threading.Barrier(len(writers))
    outcomes = [None] * len(writers)

    def run(index, fn):
        barrier.wait(timeout=30)
        try:
            database.write(fn)
            outcomes[index] = 'ok'
        except errors.ConcurrentUpdateDetected:
            outcomes[index] = 'conflict'
        except Exception as exc:  # reported below, never swallowed
            outcomes[index] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, fn))
               for i, fn in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), 'writer hung'
    return outcomes


@pytest.mark.parametrize('round_', range(3))
def test_racing_writers_exactly_one_wins(database, provider, round_):
    names = [AVX, SSE, SSE2, 'HW_CPU_X86_SSE3']
    ids = database.read(trait.ids_for_names, names)
    base = fresh(database, provider)

    def writer(name):
        mine = fresh(database, provider)
        assert mine.generation == base.generation
        return lambda conn: mine.set_traits(conn, [ids[name]])

    outcomes = _race(database, [writer(n) for n in names])
    assert sorted(outcomes) == ['conflict'] * 3 + ['ok'], outcomes
    winner = names[outcomes.index('ok')]
    assert traits_of(database, provider) == [winner]
    assert fresh(database, provider).generation == base.generation + 1


def test_writer_waits_for_the_lock_then_loses(database, provider):
    """A writer blocked behind an uncommitted generation bump sees the
    committed bump once the lock is released, and fails."""
    holder, waiter = fresh(database, provider), fresh(database, provider)
    avx, sse = trait_ids(database, AVX), trait_ids(database, SSE)
    with database.engine.connect() as conn:
        conn.execution_options(placement_write=True)
        transaction = conn.begin()
        holder.set_traits(conn, avx)
        done = threading.Event()
        result = {}

        def wait_and_write():
            try:
                database.write(lambda c: waiter.set_traits(c, sse))
                result['outcome'] = 'ok'
            except errors.ConcurrentUpdateDetected:
                result['outcome'] = 'conflict'
            except Exception as exc:
                result['outcome'] = repr(exc)
            done.set()

        thread = threading.Thread(target=wait_and_write)
        thread.start()
        assert not done.wait(0.5), 'the second writer did not wait'
        transaction.commit()
    thread.join(timeout=30)
    assert result.get('outcome') == 'conflict', result
    assert traits_of(database, provider) == [AVX]
    assert fresh(database, provider).generation == 1
