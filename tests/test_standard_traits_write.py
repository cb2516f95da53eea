"""Data-layer tests of placement/objects/standard_traits_write.py on every
backend in PLACEMENT_TEST_DBS that sends it (PostgreSQL, MariaDB/MySQL):
a write of standard traits claims, compares and changes in one round
trip that commits, writes all of it or nothing, and answers as
claim.claim_and_set_traits does, racing writers included."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import tables
from placement.objects import resource_provider as rp
from placement.objects import standard_traits_write
from placement.objects import trait
from tests.test_resource_provider import count, create, get, new_uuid

SSE2, AVX2, SSD = 'HW_CPU_X86_SSE2', 'HW_CPU_X86_AVX2', 'STORAGE_DISK_SSD'


@pytest.fixture(autouse=True)
def sending(backend):
    if backend == 'sqlite':
        pytest.skip('SQLite writes traits the usual way')


def write(database, uuid, generation, names, sent=None, ids=None):
    """``standard_traits_write.write`` as the whole of a write
    transaction; with ``sent`` (a list), the statements sent are added
    to it; ``ids`` replaces the ids looked up."""
    # Standard trait ids are read once per engine; not in the write.
    database.write(lambda conn: trait.find_ids(conn, names))

    def fn(conn):
        assert standard_traits_write.applies(conn)
        found = standard_traits_write.trait_ids(conn, names)
        assert found is not None
        return standard_traits_write.write(conn, uuid, generation,
                                           ids or found, 'stale')
    if sent is None:
        return database.write(fn)

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    engines = {database.engine, database.read_engine}
    for engine in engines:
        sa.event.listen(engine, 'after_cursor_execute', record)
    try:
        return database.write(fn)
    finally:
        for engine in engines:
            sa.event.remove(engine, 'after_cursor_execute', record)


def traits_of(database, provider):
    return database.read(rp.get_with_traits, provider.uuid)[1]


def test_traits_in_one_round_trip(database):
    provider = create(database, 'node')
    sent = []
    written, names = write(database, provider.uuid, 0, [SSE2, AVX2], sent)
    assert len(sent) == 1
    assert (written.generation, names) == (1, sorted([SSE2, AVX2]))
    assert traits_of(database, provider) == sorted([SSE2, AVX2])
    # Some kept, some removed, some added.
    written, names = write(database, provider.uuid, 1, [SSD, SSE2])
    assert (written.generation, names) == (2, sorted([SSD, SSE2]))
    assert traits_of(database, provider) == sorted([SSD, SSE2])
    assert get(database, provider).generation == 2
    assert count(database, tables.resource_provider_traits) == 2


def test_the_same_traits_change_nothing(database):
    provider = create(database, 'same')
    write(database, provider.uuid, 0, [SSE2, AVX2])
    written, names = write(database, provider.uuid, 1, [AVX2, SSE2])
    assert (written.generation, names) == (1, sorted([SSE2, AVX2]))
    assert get(database, provider).generation == 1
    # Still checked: a stale generation naming the same set is refused.
    with pytest.raises(errors.ConcurrentUpdateDetected):
        write(database, provider.uuid, 0, [SSE2, AVX2])


def test_stale_or_unknown_provider_writes_nothing(database):
    provider = create(database, 'stale')
    write(database, provider.uuid, 0, [SSE2])
    with pytest.raises(errors.ConcurrentUpdateDetected):
        write(database, provider.uuid, 0, [AVX2, SSD])
    with pytest.raises(errors.ResourceProviderNotFound):
        write(database, new_uuid(), 0, [AVX2])
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == [SSE2]


def test_a_failed_write_writes_nothing(database):
    # An id that names no trait breaks the foreign key after the claim
    # and the removal.
    provider = create(database, 'broken')
    write(database, provider.uuid, 0, [SSE2])
    with pytest.raises(sa_exc.IntegrityError):
        write(database, provider.uuid, 1, [AVX2],
              ids={AVX2: 987654321})
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == [SSE2]
    # No lock or transaction was left behind.
    written, _ = write(database, provider.uuid, 1, [AVX2])
    assert written.generation == 2


def test_racing_writers(database):
    provider = create(database, 'raced')
    sets = [[SSE2], [AVX2], [SSD], [SSE2, AVX2], [AVX2, SSD], [SSE2, SSD]]
    outcomes = []
    start = threading.Barrier(len(sets))

    def writer(names):
        start.wait(10)
        try:
            outcomes.append(write(database, provider.uuid, 0, names)[1])
        except errors.ConcurrentUpdateDetected:
            outcomes.append(None)
    threads = [threading.Thread(target=writer, args=(names,))
               for names in sets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [names for names in outcomes if names is not None]
    assert len(outcomes) == len(sets) and len(winners) == 1
    assert get(database, provider).generation == 1
    assert traits_of(database, provider) == winners[0]
