"""Each process remembers the uuid of every aggregate id it has read
(placement.objects.aggregate), on every backend: reads of a
provider's aggregates stay right while other processes write, and ask
the database only for ids not seen yet."""

import uuid as uuidlib

import pytest
import sqlalchemy as sa

from placement import app as app_mod
from placement.db import sync
from placement.db import tables
from placement.objects import aggregate
from placement.objects import claim
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


def test_aggregates_newer_than_any_read_come_with_the_read(database):
    provider = database.write(rp.create, new_uuid(), 'rp')
    first, second = sorted(new_uuid() for _ in range(2))
    sent = statements_to_aggregates(database)
    for aggs in ([first], [first], [first, second], [second]):
        database.write(lambda conn: provider.set_aggregates(
            conn, aggs, increment_generation=True))
        assert aggregates_of(database, provider) == aggs
    assert sent == []
    remembered = aggregate._remembered[database.read_engine]
    assert remembered.id_of.keys() == {first, second}
    assert remembered.newest == remembered.id_of[second] > \
        remembered.id_of[first]


def test_only_older_ids_not_seen_are_read_apart(database):
    provider, other = (database.write(rp.create, new_uuid(), name)
                       for name in ('rp', 'other'))
    older, newer = new_uuid(), new_uuid()
    # ``older`` is created first (a lower id), on a provider not read.
    database.write(lambda conn: other.set_aggregates(
        conn, [older], increment_generation=True))
    database.write(lambda conn: provider.set_aggregates(
        conn, [newer], increment_generation=True))
    sent = statements_to_aggregates(database)
    assert aggregates_of(database, provider) == [newer]
    assert sent == []
    database.write(lambda conn: provider.set_aggregates(
        conn, [older, newer], increment_generation=True))
    for _ in range(2):
        assert aggregates_of(database, provider) == sorted([older, newer])
        assert len(sent) == 1
    assert aggregates_of(database, other) == [older]
    assert len(sent) == 1


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
    assert sent == []


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


def test_postgresql_writes_name_remembered_aggregates_by_id(database,
                                                            backend):
    if backend != 'postgresql':
        pytest.skip('only PostgreSQL writes aggregates by id')
    provider = database.write(rp.create, new_uuid(), 'rp')
    first, second, third, fourth = sorted(new_uuid() for _ in range(4))

    def replace(uuids, generation):
        return database.write(lambda conn: claim.claim_and_set_aggregates(
            conn, provider.uuid, generation, uuids))
    replace([first, second, third], 0)
    assert aggregates_of(database, provider) == [first, second, third]
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        # (Sent as a prepared statement: known by its parameters.)
        if isinstance(parameters, dict) and {'ids', 'uuids'} <= set(
                parameters):
            sent.append(parameters)
    # One remembered aggregate stays, one goes, one new and one another
    # process created (never read here) come.
    other_provider = database.write(rp.create, new_uuid(), 'other')
    database.write(lambda conn: other_provider.set_aggregates(
        conn, [fourth], increment_generation=True))
    sa.event.listen(database.read_engine, 'after_cursor_execute', record)
    new = new_uuid()
    replace([second, fourth, new], 1)
    assert len(sent) == 1
    remembered = aggregate._remembered[database.read_engine].id_of
    assert sent[0]['ids'] == '{%d}' % remembered[second]
    assert sent[0]['uuids'] == '{%s}' % ','.join(
        '"%s"' % u for u in sorted([fourth, new]))
    assert aggregates_of(database, provider) == sorted([second, fourth, new])
    # The other provider's aggregate is the same row, not a new one.
    assert aggregates_of(database, other_provider) == [fourth]
    with database.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            tables.placement_aggregates)).scalar() == 5


def test_claims_read_links_as_reads_do(database, backend):
    """MariaDB/MySQL and SQLite: the claim of an aggregates write reads
    the provider's links as ids, with the uuids only of aggregates newer
    than any the process remembers; an older one it does not remember is
    looked up apart, and the write replaces the right links."""
    if backend == 'postgresql':
        pytest.skip('PostgreSQL claims and replaces in one statement')
    provider, other = (database.write(rp.create, new_uuid(), name)
                       for name in ('rp', 'other'))
    older, newer, last = new_uuid(), new_uuid(), new_uuid()
    # ``older`` is created first (a lower id), linked to a provider whose
    # aggregates no claim reads.
    database.write(lambda conn: other.set_aggregates(
        conn, [older], increment_generation=True))

    def replace(uuids, generation):
        return database.write(lambda conn: claim.claim_and_set_aggregates(
            conn, provider.uuid, generation, uuids))
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if 'placement_aggregates.id IN' in statement:
            sent.append(statement)
    sa.event.listen(database.engine, 'after_cursor_execute', record)
    replace([newer], 0)
    replace([newer, older], 1)
    assert sent == []
    assert aggregate._remembered[database.engine].id_of.keys() == {newer}
    replace([last], 2)
    assert len(sent) == 1
    assert aggregate._remembered[database.engine].id_of.keys() == {
        newer, older}
    assert aggregates_of(database, provider) == [last]
    assert aggregates_of(database, other) == [older]
    replace([older, last], 3)
    assert len(sent) == 1
    assert aggregates_of(database, provider) == sorted([older, last])
