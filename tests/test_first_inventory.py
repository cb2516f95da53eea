"""Data-layer tests of placement/objects/first_inventory.py on every
backend in PLACEMENT_TEST_DBS that sends it (PostgreSQL, MariaDB/MySQL):
a provider's first inventory is claimed and inserted in one round trip
that commits, and is written whole or not at all, racing writers
included."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import tables
from placement.objects import first_inventory
from placement.objects import inventory as inv_obj
from placement.objects import resource_class
from tests.test_resource_provider import count, create, get, new_uuid

FIRST = [inv_obj.Inventory('VCPU', 32, max_unit=16, allocation_ratio=4.0),
         inv_obj.Inventory('MEMORY_MB', 8192, reserved=512, min_unit=128),
         inv_obj.Inventory('DISK_GB', 100, step_size=10)]


@pytest.fixture(autouse=True)
def sending(backend):
    if backend == 'sqlite':
        pytest.skip('SQLite writes a first inventory the usual way')


def write_first(database, uuid, inventories, sent=None):
    """``first_inventory.write`` as the whole of a write transaction;
    with ``sent`` (a list), the statements sent are added to it."""
    names = [inv.resource_class for inv in inventories]
    # Standard class ids are read once per engine; not in the write.
    database.write(lambda conn: resource_class.ids_for_names(conn, names))

    def write(conn):
        assert first_inventory.applies(conn)
        ids = first_inventory.class_ids(conn, inventories)
        assert ids is not None
        return first_inventory.write(conn, uuid, inventories, ids, 'stale')
    if sent is None:
        return database.write(write)

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    for engine in {database.engine, database.read_engine}:
        sa.event.listen(engine, 'after_cursor_execute', record)
    try:
        return database.write(write)
    finally:
        for engine in {database.engine, database.read_engine}:
            sa.event.remove(engine, 'after_cursor_execute', record)


def stored(database, provider):
    return {inv.resource_class: inv for inv in database.read(
        lambda conn: inv_obj.list_for_provider(conn, get(database,
                                                         provider)))}


def test_first_inventory_in_one_round_trip(database):
    provider = create(database, 'first')
    sent = []
    claimed, written = write_first(database, provider.uuid, FIRST, sent)
    assert len(sent) == 1
    assert 'COMMIT' in sent[0] or database.engine.dialect.name == \
        'postgresql'
    assert claimed.generation == 1
    assert get(database, provider).generation == 1
    assert [inv.resource_class for inv in written] == [
        'VCPU', 'MEMORY_MB', 'DISK_GB']  # by class id
    assert all(inv.created_at is not None for inv in written)
    found = stored(database, provider)
    for inv in FIRST:
        record = found[inv.resource_class]
        assert record.values() == inv.values()
        assert record.created_at is not None
    assert len(found) == 3


def test_stale_or_unknown_provider_writes_nothing(database):
    provider = create(database, 'stale')
    write_first(database, provider.uuid, FIRST[:1])
    with pytest.raises(errors.ConcurrentUpdateDetected):
        write_first(database, provider.uuid, FIRST[1:])
    with pytest.raises(errors.ResourceProviderNotFound):
        write_first(database, new_uuid(), FIRST)
    assert get(database, provider).generation == 1
    assert list(stored(database, provider)) == ['VCPU']
    assert count(database, tables.inventories) == 1


def test_a_failed_insertion_writes_nothing(database):
    # The same class twice breaks the unique key after the claim.
    provider = create(database, 'broken')
    twice = [FIRST[0], inv_obj.Inventory('VCPU', 8)]
    with pytest.raises(sa_exc.IntegrityError):
        write_first(database, provider.uuid, twice)
    assert get(database, provider).generation == 0
    assert count(database, tables.inventories) == 0
    # No lock or transaction was left behind.
    claimed, _ = write_first(database, provider.uuid, FIRST)
    assert claimed.generation == 1


def test_racing_first_inventories(database):
    provider = create(database, 'raced')
    outcomes = []
    start = threading.Barrier(6)

    def writer(total):
        start.wait(10)
        try:
            write_first(database, provider.uuid,
                        [inv_obj.Inventory('VCPU', total)])
            outcomes.append(total)
        except errors.ConcurrentUpdateDetected:
            outcomes.append(None)
    threads = [threading.Thread(target=writer, args=(total,))
               for total in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [total for total in outcomes if total is not None]
    assert len(outcomes) == 6 and len(winners) == 1
    assert get(database, provider).generation == 1
    assert stored(database, provider)['VCPU'].total == winners[0]
