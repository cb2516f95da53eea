"""Data-layer tests of allocations, consumers, usages and reshaping
(placement/objects/allocation.py, consumer.py, usage.py, reshape.py) on
every backend in PLACEMENT_TEST_DBS: the capacity rules of ``replace``,
consumer generations, consumers removed with their last allocation,
usage sums, and the three steps of a reshape."""

import threading
import types
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from placement import errors
from placement.db import tables
from placement.objects import allocation as alloc
from placement.objects import consumer as consumer_obj
from placement.objects import inventory as inv_obj
from placement.objects import reshape as reshape_obj
from placement.objects import resource_class
from placement.objects import resource_provider as rp
from placement.objects import usage

PROJECT, USER = 'project-a', 'user-a'


def new_uuid():
    return str(uuidlib.uuid4())


def provider(db, name, parent=None, **inventories):
    """A provider with ``inventories`` ({class: Inventory field dict or
    a total})."""
    made = db.write(rp.create, new_uuid(), name,
                    parent.uuid if parent is not None else None)
    if inventories:
        wanted = [inv_obj.Inventory.from_request(
                      rc, fields if isinstance(fields, dict)
                      else {'total': fields})
                  for rc, fields in inventories.items()]
        db.write(lambda conn: inv_obj.replace_all(
            conn, rp.get_by_uuid(conn, made.uuid, for_update=True), wanted))
    return fresh(db, made)


def fresh(db, provider):
    return db.read(rp.get_by_uuid, provider.uuid)


def request(consumer, allocations, generation=alloc.UNCHECKED,
            project=PROJECT, user=USER, consumer_type=...):
    """A ``ConsumerAllocations``; ``allocations`` maps provider uuids
    to {class: amount}."""
    return alloc.ConsumerAllocations(
        consumer_uuid=consumer, project_id=project, user_id=user,
        allocations=allocations,
        generation=generation, consumer_type=consumer_type)


def put(db, *requests):
    db.write(alloc.replace, list(requests))


def held(db, consumer):
    """{provider uuid: {class: amount}} of ``consumer``."""
    _, allocations, _ = db.read(alloc.for_consumer, consumer)
    return {uuid: entry['resources'] for uuid, entry in allocations.items()}


def used(db, provider):
    return db.read(usage.for_provider, provider.id)


def consumer(db, uuid):
    return db.read(consumer_obj.get, uuid)


def count(db, table):
    return db.read(lambda conn: conn.execute(
        sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.fixture
def host(database):
    return provider(database, 'host', VCPU=8, MEMORY_MB=1024)


# -- replace: what it writes -------------------------------------------

def test_replace_writes_and_bumps_generations(database, host):
    other = provider(database, 'other', VCPU=4)
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 2, 'MEMORY_MB': 256},
                              other.uuid: {'VCPU': 1}}))
    assert held(database, c) == {host.uuid: {'VCPU': 2, 'MEMORY_MB': 256},
                                 other.uuid: {'VCPU': 1}}
    assert fresh(database, host).generation == host.generation + 1
    assert fresh(database, other).generation == other.generation + 1
    made = consumer(database, c)
    assert (made.project_id, made.user_id, made.generation,
            made.consumer_type) == (PROJECT, USER, 1, None)
    assert used(database, host) == {'VCPU': 2, 'MEMORY_MB': 256}


def test_replace_replaces_and_only_bumps_receiving_providers(database,
                                                             host):
    other = provider(database, 'other', VCPU=4)
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 2},
                              other.uuid: {'VCPU': 1}}))
    before_other = fresh(database, other).generation
    put(database, request(c, {host.uuid: {'MEMORY_MB': 64}}))
    assert held(database, c) == {host.uuid: {'MEMORY_MB': 64}}
    assert fresh(database, other).generation == before_other
    assert used(database, other) == {'VCPU': 0}
    assert consumer(database, c).generation == 2


def test_owner_and_type_are_updated(database, host):
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}},
                          consumer_type='INSTANCE'))
    put(database, request(c, {host.uuid: {'VCPU': 1}},
                          project='p2', user='u2'))
    after = consumer(database, c)
    assert (after.project_id, after.user_id, after.consumer_type) == \
        ('p2', 'u2', 'INSTANCE')
    put(database, request(c, {host.uuid: {'VCPU': 1}},
                          consumer_type='MIGRATION'))
    assert consumer(database, c).consumer_type == 'MIGRATION'
    # Projects, users and types are stored once each.
    assert count(database, tables.projects) == 2
    assert count(database, tables.consumer_types) == 2


# -- replace: capacity -------------------------------------------------

@pytest.mark.parametrize('fields, fits, refused', [
    ({'total': 8}, 8, 9),
    ({'total': 8, 'reserved': 2}, 6, 7),
    ({'total': 8, 'allocation_ratio': 1.5}, 12, 13),
    ({'total': 8, 'reserved': 3, 'allocation_ratio': 2.0}, 10, 11),
    ({'total': 10, 'allocation_ratio': 0.55}, 5, 6),
])
def test_capacity_honours_reserved_and_ratio(database, fields, fits,
                                             refused):
    p = provider(database, 'p', VCPU=fields)
    with pytest.raises(errors.InvalidInventory,
                       match='would exceed the capacity'):
        put(database, request(new_uuid(), {p.uuid: {'VCPU': refused}}))
    put(database, request(new_uuid(), {p.uuid: {'VCPU': fits}}))
    assert used(database, p) == {'VCPU': fits}


def test_capacity_counts_other_consumers(database, host):
    put(database, request(new_uuid(), {host.uuid: {'VCPU': 5}}))
    with pytest.raises(errors.InvalidInventory):
        put(database, request(new_uuid(), {host.uuid: {'VCPU': 4}}))
    put(database, request(new_uuid(), {host.uuid: {'VCPU': 3}}))
    assert used(database, host)['VCPU'] == 8


def test_over_capacity_writes_nothing(database, host):
    other = provider(database, 'other', VCPU=4)
    c, existing = new_uuid(), new_uuid()
    put(database, request(existing, {host.uuid: {'VCPU': 2}}))
    host_gen = fresh(database, host).generation
    with pytest.raises(errors.InvalidInventory):
        put(database,
            request(c, {other.uuid: {'VCPU': 1}}),
            request(existing, {host.uuid: {'VCPU': 9}}))
    assert held(database, c) == {}
    assert consumer(database, c) is None
    assert held(database, existing) == {host.uuid: {'VCPU': 2}}
    assert consumer(database, existing).generation == 1
    assert fresh(database, host).generation == host_gen
    assert fresh(database, other).generation == other.generation
    assert used(database, other) == {'VCPU': 0}


def test_consumers_of_one_request_share_the_capacity(database, host):
    with pytest.raises(errors.InvalidInventory):
        put(database, request(new_uuid(), {host.uuid: {'VCPU': 5}}),
            request(new_uuid(), {host.uuid: {'VCPU': 4}}))
    assert used(database, host)['VCPU'] == 0


def test_moving_between_consumers_counts_the_released_share(database,
                                                            host):
    old, new = new_uuid(), new_uuid()
    put(database, request(old, {host.uuid: {'VCPU': 6}}))
    # 6 + 6 would not fit, but old's share goes in the same transaction.
    put(database, request(old, {}), request(new, {host.uuid: {'VCPU': 6}}))
    assert held(database, old) == {}
    assert consumer(database, old) is None
    assert held(database, new) == {host.uuid: {'VCPU': 6}}


@pytest.mark.parametrize('amount, ok', [
    (5, False), (10, True), (15, False), (40, True), (50, False)])
def test_min_max_and_step(database, amount, ok):
    p = provider(database, 'p', DISK_GB={'total': 100, 'min_unit': 10,
                                         'max_unit': 40, 'step_size': 10})
    if ok:
        put(database, request(new_uuid(), {p.uuid: {'DISK_GB': amount}}))
        assert used(database, p) == {'DISK_GB': amount}
    else:
        with pytest.raises(errors.InvalidInventory,
                           match='would violate inventory constraints'):
            put(database, request(new_uuid(), {p.uuid: {'DISK_GB': amount}}))
        assert used(database, p) == {'DISK_GB': 0}


def test_class_without_inventory(database, host):
    with pytest.raises(errors.InvalidInventory,
                       match="Inventory for 'DISK_GB' on resource provider "
                             "'%s' invalid" % host.uuid):
        put(database, request(new_uuid(), {host.uuid: {'DISK_GB': 1}}))


def test_unknown_provider_and_class(database, host):
    ghost = types.SimpleNamespace(uuid=new_uuid())
    with pytest.raises(errors.InvalidInput, match=ghost.uuid):
        put(database, request(new_uuid(), {ghost.uuid: {'VCPU': 1}}))
    with pytest.raises(errors.ResourceClassNotFound, match='CUSTOM_NOPE'):
        put(database, request(new_uuid(), {host.uuid: {'CUSTOM_NOPE': 1}}))
    assert count(database, tables.consumers) == 0
    assert count(database, tables.allocations) == 0


def test_over_capacity_provider_only_accepts_reductions(database, host):
    c, other = new_uuid(), new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 6}}),
        request(other, {host.uuid: {'VCPU': 2}}))
    # Shrink the inventory below what is in use.
    database.write(lambda conn: inv_obj.update(
        conn, rp.get_by_uuid(conn, host.uuid, for_update=True),
        inv_obj.Inventory('VCPU', total=4)))
    put(database, request(c, {host.uuid: {'VCPU': 5}}))
    assert used(database, host)['VCPU'] == 7
    with pytest.raises(errors.InvalidInventory):
        put(database, request(c, {host.uuid: {'VCPU': 6}}))
    with pytest.raises(errors.InvalidInventory):
        put(database, request(new_uuid(), {host.uuid: {'VCPU': 1}}))
    # Memory is not over capacity: unaffected.
    put(database, request(c, {host.uuid: {'VCPU': 5, 'MEMORY_MB': 512}}))


def test_racing_claims_never_exceed_capacity(database):
    """Writers released together for the last units of a provider: the
    locks taken before the capacity check let exactly as many win as
    there are units."""
    p = provider(database, 'p', VCPU=3)
    writers = 6
    barrier = threading.Barrier(writers)
    outcomes = [None] * writers

    def claim(index):
        barrier.wait(timeout=30)
        try:
            put(database, request(new_uuid(), {p.uuid: {'VCPU': 1}}))
            outcomes[index] = 'ok'
        except errors.InvalidInventory:
            outcomes[index] = 'full'
        except Exception as exc:  # reported below, never swallowed
            outcomes[index] = repr(exc)

    threads = [threading.Thread(target=claim, args=(i,))
               for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), 'writer hung'
    assert sorted(outcomes) == ['full'] * 3 + ['ok'] * 3, outcomes
    assert used(database, p) == {'VCPU': 3}
    assert fresh(database, p).generation == p.generation + 3


# -- consumer generations ----------------------------------------------

def test_unchecked_generation_ignores_the_consumer_generation(database,
                                                              host):
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}}))
    put(database, request(c, {host.uuid: {'VCPU': 2}}))
    assert consumer(database, c).generation == 2


def test_new_consumer_needs_a_null_generation(database, host):
    c = new_uuid()
    with pytest.raises(errors.ConcurrentUpdateDetected,
                       match='expected null but got 0'):
        put(database, request(c, {host.uuid: {'VCPU': 1}}, generation=0))
    assert consumer(database, c) is None
    put(database, request(c, {host.uuid: {'VCPU': 1}}, generation=None))
    assert consumer(database, c).generation == 1


@pytest.mark.parametrize('wrong', [None, 0, 2, 7])
def test_existing_consumer_needs_its_generation(database, host, wrong):
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}}, generation=None))
    host_gen = fresh(database, host).generation
    with pytest.raises(errors.ConcurrentUpdateDetected,
                       match='expected 1 but got %s' % wrong):
        put(database, request(c, {host.uuid: {'VCPU': 3}}, generation=wrong))
    assert held(database, c) == {host.uuid: {'VCPU': 1}}
    assert fresh(database, host).generation == host_gen
    put(database, request(c, {host.uuid: {'VCPU': 3}}, generation=1))
    assert consumer(database, c).generation == 2
    assert held(database, c) == {host.uuid: {'VCPU': 3}}


def test_one_stale_consumer_refuses_every_consumer(database, host):
    a, b = new_uuid(), new_uuid()
    put(database, request(a, {host.uuid: {'VCPU': 1}}, generation=None))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        put(database,
            request(a, {host.uuid: {'VCPU': 2}}, generation=1),
            request(b, {host.uuid: {'VCPU': 2}}, generation=5))
    assert held(database, a) == {host.uuid: {'VCPU': 1}}
    assert consumer(database, b) is None


def test_consumer_compare_and_increment(database, host):
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}}))
    stale, current = consumer(database, c), consumer(database, c)
    database.write(lambda conn: current.increment_generation(conn))
    with pytest.raises(errors.ConcurrentUpdateDetected):
        database.write(lambda conn: stale.increment_generation(conn))
    assert consumer(database, c).generation == 2


def test_creating_an_existing_consumer_is_a_conflict(database):
    c = new_uuid()
    database.write(consumer_obj.create, c, PROJECT, USER)
    with pytest.raises(errors.ConcurrentUpdateDetected,
                       match='created by another request'):
        database.write(consumer_obj.create, c, PROJECT, USER)
    assert count(database, tables.consumers) == 1


# -- consumers without allocations -------------------------------------

def test_empty_allocations_remove_the_consumer(database, host):
    c = new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}}, generation=None))
    host_gen = fresh(database, host).generation
    put(database, request(c, {}, generation=1))
    assert consumer(database, c) is None
    assert held(database, c) == {}
    # The provider it took allocations from is written (as OpenStack
    # Placement writes it).
    assert fresh(database, host).generation == host_gen + 1
    # The consumer is new again.
    put(database, request(c, {host.uuid: {'VCPU': 1}}, generation=None))
    assert consumer(database, c).generation == 1


def test_empty_allocations_for_an_unknown_consumer(database):
    put(database, request(new_uuid(), {}, generation=None))
    assert count(database, tables.consumers) == 0


def test_delete_for_consumer(database, host):
    c, other = new_uuid(), new_uuid()
    put(database, request(c, {host.uuid: {'VCPU': 1}}),
        request(other, {host.uuid: {'VCPU': 2}}))
    host_gen = fresh(database, host).generation
    database.write(alloc.delete_for_consumer, c)
    assert consumer(database, c) is None
    assert held(database, other) == {host.uuid: {'VCPU': 2}}
    assert used(database, host)['VCPU'] == 2
    # Deleting allocations does not bump the provider.
    assert fresh(database, host).generation == host_gen
    with pytest.raises(errors.NotFound, match='No allocations for consumer'):
        database.write(alloc.delete_for_consumer, c)


def test_delete_if_unused_keeps_consumers_with_allocations(database, host):
    busy, idle = new_uuid(), new_uuid()
    put(database, request(busy, {host.uuid: {'VCPU': 1}}))
    database.write(consumer_obj.create, idle, PROJECT, USER)
    database.write(consumer_obj.delete_if_unused, [busy, idle, new_uuid()])
    assert consumer(database, busy) is not None
    assert consumer(database, idle) is None


# -- usages ------------------------------------------------------------

@pytest.fixture
def populated(database, host):
    """Consumers of two projects over two providers, typed and not."""
    other = provider(database, 'other', VCPU=8, DISK_GB=100)
    put(database,
        request(new_uuid(), {host.uuid: {'VCPU': 1, 'MEMORY_MB': 128}}),
        request(new_uuid(), {other.uuid: {'VCPU': 2}}, user='user-b'),
        request(new_uuid(), {host.uuid: {'VCPU': 1},
                             other.uuid: {'DISK_GB': 10}},
                consumer_type='INSTANCE'),
        request(new_uuid(), {other.uuid: {'VCPU': 3}},
                consumer_type='INSTANCE', user='user-b'),
        request(new_uuid(), {host.uuid: {'MEMORY_MB': 256}},
                consumer_type='MIGRATION'),
        request(new_uuid(), {host.uuid: {'VCPU': 4}}, project='project-b',
                consumer_type='INSTANCE'))
    return host, other


def test_provider_usage_lists_every_inventory(database, populated):
    host, other = populated
    assert used(database, host) == {'VCPU': 6, 'MEMORY_MB': 384}
    assert used(database, other) == {'VCPU': 5, 'DISK_GB': 10}
    empty = provider(database, 'empty', VCPU=1)
    assert used(database, empty) == {'VCPU': 0}
    assert used(database, provider(database, 'bare')) == {}


def test_project_usage(database, populated):
    assert database.read(usage.for_project, PROJECT) == {
        'VCPU': 7, 'MEMORY_MB': 384, 'DISK_GB': 10}
    assert database.read(usage.for_project, PROJECT, 'user-b') == {
        'VCPU': 5}
    assert database.read(usage.for_project, 'project-b') == {'VCPU': 4}
    assert database.read(usage.for_project, 'nobody') == {}


def test_usage_by_type(database, populated):
    assert database.read(usage.for_project_by_type, PROJECT) == {
        'unknown': {'consumer_count': 2, 'VCPU': 3, 'MEMORY_MB': 128},
        'INSTANCE': {'consumer_count': 2, 'VCPU': 4, 'DISK_GB': 10},
        'MIGRATION': {'consumer_count': 1, 'MEMORY_MB': 256},
    }


def test_usage_by_type_all(database, populated):
    assert database.read(usage.for_project_by_type, PROJECT, None,
                         'all') == {
        'all': {'consumer_count': 5, 'VCPU': 7, 'MEMORY_MB': 384,
                'DISK_GB': 10}}
    assert database.read(usage.for_project_by_type, PROJECT, 'user-b',
                         'all') == {
        'all': {'consumer_count': 2, 'VCPU': 5}}


def test_usage_by_type_filters(database, populated):
    read = database.read
    assert read(usage.for_project_by_type, PROJECT, None, 'unknown') == {
        'unknown': {'consumer_count': 2, 'VCPU': 3, 'MEMORY_MB': 128}}
    assert read(usage.for_project_by_type, PROJECT, None, 'INSTANCE') == {
        'INSTANCE': {'consumer_count': 2, 'VCPU': 4, 'DISK_GB': 10}}
    assert read(usage.for_project_by_type, PROJECT, USER, 'INSTANCE') == {
        'INSTANCE': {'consumer_count': 1, 'VCPU': 1, 'DISK_GB': 10}}
    assert read(usage.for_project_by_type, PROJECT, None, 'BACKUP') == {}
    assert read(usage.for_project_by_type, 'project-b') == {
        'INSTANCE': {'consumer_count': 1, 'VCPU': 4}}
    assert read(usage.for_project_by_type, 'nobody', None, 'all') == {}


# -- reshape -------------------------------------------------------------

def inventories_of(db, provider):
    return {inv.resource_class: inv.total for inv in db.read(
        lambda conn: inv_obj.list_for_provider(conn, fresh(db, provider)))}


def reshape(db, inventories, *requests):
    """``inventories`` maps a provider uuid to {class: total}."""
    wanted = {
        uuid: (db.read(rp.get_by_uuid, uuid).generation,
               [inv_obj.Inventory(rc, total=t) for rc, t in invs.items()])
        for uuid, invs in inventories.items()}
    db.write(reshape_obj.reshape, wanted, list(requests))


@pytest.fixture
def tree(database):
    """A parent holding VCPU and DISK_GB, an empty child, and two
    consumers of the parent's VCPU."""
    parent = provider(database, 'parent', VCPU=8, DISK_GB=100)
    child = provider(database, 'child', parent=parent)
    a, b = new_uuid(), new_uuid()
    put(database, request(a, {parent.uuid: {'VCPU': 2, 'DISK_GB': 10}},
                          generation=None),
        request(b, {parent.uuid: {'VCPU': 3}}, generation=None))
    return parent, child, a, b


def test_reshape_moves_inventory_and_allocations(database, tree):
    parent, child, a, b = tree
    child_gen = fresh(database, child).generation
    reshape(database, {parent.uuid: {'DISK_GB': 100}, child.uuid: {'VCPU': 8}},
            request(a, {parent.uuid: {'DISK_GB': 10}, child.uuid: {'VCPU': 2}},
                    generation=1),
            request(b, {child.uuid: {'VCPU': 3}}, generation=1))
    assert inventories_of(database, parent) == {'DISK_GB': 100}
    assert inventories_of(database, child) == {'VCPU': 8}
    assert held(database, a) == {parent.uuid: {'DISK_GB': 10},
                                 child.uuid: {'VCPU': 2}}
    assert held(database, b) == {child.uuid: {'VCPU': 3}}
    assert consumer(database, a).generation == 2
    assert consumer(database, b).generation == 2
    assert fresh(database, parent).generation > parent.generation
    assert fresh(database, child).generation > child_gen


def test_reshape_to_a_new_class_on_the_same_provider(database, tree):
    """The first step keeps VCPU while the allocations move to the new
    class; only the last step removes it."""
    parent, _, a, b = tree
    database.write(resource_class.create, 'CUSTOM_CORE')
    reshape(database, {parent.uuid: {'CUSTOM_CORE': 8, 'DISK_GB': 100}},
            request(a, {parent.uuid: {'CUSTOM_CORE': 2, 'DISK_GB': 10}}),
            request(b, {parent.uuid: {'CUSTOM_CORE': 3}}))
    assert inventories_of(database, parent) == {'CUSTOM_CORE': 8,
                                                'DISK_GB': 100}
    assert used(database, parent) == {'CUSTOM_CORE': 5, 'DISK_GB': 10}


def assert_tree_unchanged(database, tree, generations):
    parent, child, a, b = tree
    assert inventories_of(database, parent) == {'VCPU': 8, 'DISK_GB': 100}
    assert inventories_of(database, child) == {}
    assert held(database, a) == {parent.uuid: {'VCPU': 2, 'DISK_GB': 10}}
    assert held(database, b) == {parent.uuid: {'VCPU': 3}}
    assert (consumer(database, a).generation,
            consumer(database, b).generation) == (1, 1)
    assert (fresh(database, parent).generation,
            fresh(database, child).generation) == generations


def _generations(database, tree):
    return (fresh(database, tree[0]).generation,
            fresh(database, tree[1]).generation)


def test_reshape_refused_in_step_two_changes_nothing(database, tree):
    parent, child, a, b = tree
    before = _generations(database, tree)
    with pytest.raises(errors.InvalidInventory,
                       match='would exceed the capacity'):
        reshape(database,
                {parent.uuid: {'DISK_GB': 100}, child.uuid: {'VCPU': 4}},
                request(a, {parent.uuid: {'DISK_GB': 10},
                            child.uuid: {'VCPU': 2}}),
                request(b, {child.uuid: {'VCPU': 3}}))
    assert_tree_unchanged(database, tree, before)


def test_reshape_refused_in_step_three_changes_nothing(database, tree):
    """b is left on the parent's VCPU, which the reshape removes."""
    parent, child, a, b = tree
    before = _generations(database, tree)
    with pytest.raises(errors.InventoryInUse, match='VCPU'):
        reshape(database,
                {parent.uuid: {'DISK_GB': 100}, child.uuid: {'VCPU': 8}},
                request(a, {parent.uuid: {'DISK_GB': 10},
                            child.uuid: {'VCPU': 2}}))
    assert_tree_unchanged(database, tree, before)


def test_reshape_with_a_stale_generation(database, tree):
    parent, child, a, b = tree
    before = _generations(database, tree)
    wanted = {parent.uuid: (before[0] - 1,
                            [inv_obj.Inventory('DISK_GB', total=100)])}
    with pytest.raises(errors.ConcurrentUpdateDetected,
                       match='actual: %d, given: %d' % (before[0],
                                                        before[0] - 1)):
        database.write(reshape_obj.reshape, wanted, [])
    with pytest.raises(errors.ConcurrentUpdateDetected):
        reshape(database, {child.uuid: {'VCPU': 8}},
                request(a, {child.uuid: {'VCPU': 2}}, generation=0))
    assert_tree_unchanged(database, tree, before)


def test_reshape_of_an_unknown_provider(database, tree):
    before = _generations(database, tree)
    ghost = new_uuid()
    with pytest.raises(errors.ResourceProviderNotFound, match=ghost):
        database.write(reshape_obj.reshape,
                       {tree[0].uuid: (before[0], []),
                        ghost: (0, [inv_obj.Inventory('VCPU', total=1)])},
                       [])
    assert_tree_unchanged(database, tree, before)


def test_reshape_of_inventories_alone(database, tree):
    parent, child, _, _ = tree
    reshape(database, {child.uuid: {'MEMORY_MB': 512}})
    assert inventories_of(database, child) == {'MEMORY_MB': 512}
    assert inventories_of(database, parent) == {'VCPU': 8, 'DISK_GB': 100}


def test_reshape_generations_as_openstack_placement_counts_them(database,
                                                                tree):
    """Each step that writes a provider bumps its generation once: the
    union step only for a provider with inventory asked for, the
    allocations step for a provider receiving allocations or losing an
    emptied consumer's, the last step for every provider named."""
    parent, child, a, b = tree
    reshape(database, {child.uuid: {'VCPU': 8}},
            request(a, {child.uuid: {'VCPU': 2}}, generation=1),
            request(b, {child.uuid: {'VCPU': 3}}, generation=1))
    before = _generations(database, tree)
    # Every allocation goes back to the parent; the child's inventory
    # is emptied; one consumer is emptied.
    reshape(database, {parent.uuid: {'VCPU': 8, 'DISK_GB': 100},
                       child.uuid: {}},
            request(a, {parent.uuid: {'VCPU': 5}}, generation=2),
            request(b, {}, generation=2))
    after = _generations(database, tree)
    # parent: union, allocations, last step; child: the emptied consumer's
    # allocations, last step (no union: nothing asked for).
    assert (after[0] - before[0], after[1] - before[1]) == (3, 2)
    assert inventories_of(database, child) == {}
    assert held(database, a) == {parent.uuid: {'VCPU': 5}}
    assert held(database, b) == {}
