"""Each process remembers the uuid of every aggregate id it has read
(placement.objects.aggregate.uuids_of), on every backend: reads of a
provider's aggregates stay right while other processes write, and ask
the database only for ids not seen yet."""

import uuid as uuidlib

import pytest
import sqlalchemy as sa

from placement import app as app_mod
from placement.db import sync
from placement.db import tables
from placement.objects import aggregate
from placement.objects import resource_provider as rp
from tests import databases
from tests.conftest import make_conf


def new_uuid():
    return str(uuidlib.uuid4())


def aggregates_of(database, provider):
    return database.read(rp.get_with_aggregates, provider.uuid)[1]


@pytest.fixture
def other(database, database_url):
    """A second Database on the same database: another process."""
    db = app_mod.make_database(make_conf(database_url))
    yield db
    db.dispose()


def statements_to_aggregates(database):
    """A list that collects each statement sent that reads the
    aggregates table by id, from now on."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if 'placement_aggregates.id IN' in statement:
            sent.append(statement)
    sa.event.listen(database.read_engine, 'after_cursor_execute', record)
    return sent


def test_reads_stay_right_while_another_process_writes(database, other):
    provider = database.write(rp.create, new_uuid(), 'rp')
    first, second, third = sorted(new_uuid() for _ in range(3))
    database.write(lambda conn: provider.set_aggregates(
        conn, [first, second], increment_generation=True))
    assert aggregates_of(database, provider) == [first, second]
    seen = other.read(rp.get_by_uuid, provider.uuid)
    other.write(lambda conn: seen.set_aggregates(
        conn, [second, third], increment_generation=True))
    assert aggregates_of(database, provider) == [second, third]
    assert aggregates_of(other, provider) == [second, third]
    other.write(lambda conn: seen.set_aggregates(
        conn, [], increment_generation=True))
    assert aggregates_of(database, provider) == []


def test_only_ids_not_seen_are_read(database):
    provider = database.write(rp.create, new_uuid(), 'rp')
    first, second = sorted(new_uuid() for _ in range(2))
    sent = statements_to_aggregates(database)
    database.write(lambda conn: provider.set_aggregates(
        conn, [first], increment_generation=True))
    assert aggregates_of(database, provider) == [first]
    assert len(sent) == 1
    assert aggregates_of(database, provider) == [first]
    assert len(sent) == 1
    database.write(lambda conn: provider.set_aggregates(
        conn, [first, second], increment_generation=True))
    assert aggregates_of(database, provider) == [first, second]
    assert len(sent) == 2


def test_memory_is_per_database(database, backend, tmp_path):
    # The same ids name other aggregates in another database.
    url = databases.fresh_url(backend, tmp_path)
    elsewhere = app_mod.make_database(make_conf(url))
    try:
        sync.upgrade(elsewhere)
        mine, theirs = new_uuid(), new_uuid()
        for db, agg in ((database, mine), (elsewhere, theirs)):
            provider = db.write(rp.create, new_uuid(), 'rp')
            db.write(lambda conn: provider.set_aggregates(
                conn, [agg], increment_generation=True))
            assert aggregates_of(db, provider) == [agg]
    finally:
        elsewhere.dispose()
        databases.drop(url)


def test_a_full_memory_starts_again(database, monkeypatch):
    monkeypatch.setattr(aggregate, 'REMEMBERED', 3)
    provider = database.write(rp.create, new_uuid(), 'rp')
    sent = statements_to_aggregates(database)
    for count in range(1, 6):
        aggs = sorted(new_uuid() for _ in range(count))
        database.write(lambda conn: provider.set_aggregates(
            conn, aggs, increment_generation=True))
        assert aggregates_of(database, provider) == aggs
        remembered = aggregate._remembered[database.read_engine]
        assert len(remembered) <= max(3, count)
    assert len(sent) == 5


def test_an_id_with_no_aggregate_is_left_out(database):
    # As the join it replaces did: a link to no aggregate names nothing.
    provider = database.write(rp.create, new_uuid(), 'rp')
    agg = new_uuid()
    database.write(lambda conn: provider.set_aggregates(
        conn, [agg], increment_generation=True))

    def dangling(conn):
        conn.execute(sa.insert(tables.resource_provider_aggregates).values(
            resource_provider_id=provider.id, aggregate_id=999999))
    database.write(dangling)
    assert aggregates_of(database, provider) == [agg]
