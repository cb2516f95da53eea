"""Data-layer tests of placement/objects/resource_provider.py: creation,
uniqueness, trees and root ids, moving providers, deletion rules and the
list filters, on every backend in PLACEMENT_TEST_DBS."""

import uuid as uuidlib

import pytest
import sqlalchemy as sa

from placement import errors
from placement.db import tables
from placement.objects import resource_class
from placement.objects import resource_provider as rp
from placement.objects import trait


def new_uuid():
    return str(uuidlib.uuid4())


def create(db, name, parent=None, uuid=None):
    return db.write(rp.create, uuid or new_uuid(), name,
                    parent.uuid if parent is not None else None)


def get(db, provider):
    return db.read(rp.get_by_uuid, provider.uuid)


def count(db, table):
    return db.read(lambda conn: conn.execute(
        sa.select(sa.func.count()).select_from(table)).scalar_one())


# -- creation ---------------------------------------------------------

def test_create_root(database):
    uuid = new_uuid()
    made = database.write(rp.create, uuid, 'root-1')
    assert made.uuid == uuid
    assert made.name == 'root-1'
    assert made.generation == 0
    assert made.parent_provider_id is None
    assert made.parent_provider_uuid is None
    assert made.root_provider_id == made.id
    assert made.root_provider_uuid == uuid
    assert made.created_at is not None
    assert get(database, made) == made


def test_duplicate_uuid_is_refused_and_writes_nothing(database):
    first = create(database, 'first')
    with pytest.raises(errors.DuplicateName) as caught:
        create(database, 'second', uuid=first.uuid)
    assert 'uuid: %s' % first.uuid in str(caught.value)
    assert count(database, tables.resource_providers) == 1
    assert database.read(rp.find_by_uuid, first.uuid).name == 'first'


def test_duplicate_name_is_refused_and_writes_nothing(database):
    create(database, 'same')
    other = new_uuid()
    with pytest.raises(errors.DuplicateName) as caught:
        database.write(rp.create, other, 'same')
    assert 'name: same' in str(caught.value)
    assert database.read(rp.find_by_uuid, other) is None
    assert count(database, tables.resource_providers) == 1


def create_whole(db, name, parent):
    """``create`` as the whole of its transaction, as the API calls it."""
    return db.write(rp.create, new_uuid(), name, parent.uuid,
                    whole_transaction=True)


@pytest.mark.parametrize('whole_transaction', [False, True])
def test_children_share_the_root(database, whole_transaction):
    make = create_whole if whole_transaction else create
    root = create(database, 'root')
    child = make(database, 'child', parent=root)
    grandchild = make(database, 'grandchild', parent=child)
    if child.id is None:
        # Created in one round trip on MariaDB/MySQL: the child's id is
        # not read (and nothing else reads it).
        assert whole_transaction and database.backend == 'mysql'
        child, grandchild = get(database, child), get(database, grandchild)
        assert [child.name, grandchild.name] == ['child', 'grandchild']
    assert get(database, child) == child
    assert get(database, grandchild) == grandchild
    assert child.parent_provider_id == root.id
    assert child.parent_provider_uuid == root.uuid
    assert grandchild.parent_provider_uuid == child.uuid
    for provider in (child, grandchild):
        assert provider.root_provider_id == root.id
        assert provider.root_provider_uuid == root.uuid
    assert sorted(database.read(rp.descendant_ids, root.id)) == sorted(
        [child.id, grandchild.id])
    assert database.read(rp.descendant_ids, grandchild.id) == []


@pytest.mark.parametrize('whole_transaction', [False, True])
def test_create_with_unknown_parent(database, whole_transaction):
    uuid = new_uuid()
    with pytest.raises(errors.InvalidInput, match='parent provider UUID '
                       'does not exist'):
        database.write(rp.create, uuid, 'orphan', new_uuid(),
                       whole_transaction=whole_transaction)
    assert database.read(rp.find_by_uuid, uuid) is None


def test_duplicate_child_is_refused_and_writes_nothing(database):
    root = create(database, 'root')
    create_whole(database, 'taken', parent=root)
    other = new_uuid()
    with pytest.raises(errors.DuplicateName, match='name: taken'):
        database.write(rp.create, other, 'taken', root.uuid,
                       whole_transaction=True)
    assert database.read(rp.find_by_uuid, other) is None
    assert count(database, tables.resource_providers) == 2


def test_create_as_own_parent(database):
    uuid = new_uuid()
    with pytest.raises(errors.InvalidInput, match='cannot be same as UUID'):
        database.write(rp.create, uuid, 'self-parent', uuid)
    assert count(database, tables.resource_providers) == 0


def test_get_unknown(database):
    missing = new_uuid()
    assert database.read(rp.find_by_uuid, missing) is None
    with pytest.raises(errors.ResourceProviderNotFound, match=missing):
        database.read(rp.get_by_uuid, missing)


# -- update: renaming and moving --------------------------------------

def test_rename(database):
    provider = create(database, 'old')
    renamed = database.write(rp.update, provider, 'new')
    assert renamed.name == 'new'
    assert renamed.updated_at is not None
    assert get(database, provider).name == 'new'


def test_rename_to_taken_name(database):
    create(database, 'taken')
    provider = create(database, 'mine')
    with pytest.raises(errors.DuplicateName, match='taken'):
        database.write(rp.update, provider, 'taken')
    assert get(database, provider).name == 'mine'


def test_root_may_get_a_parent_without_reparenting(database):
    """Giving a root provider a parent moves its whole tree."""
    target = create(database, 'target')
    moved = create(database, 'moved')
    below = create(database, 'below', parent=moved)
    after = database.write(rp.update, moved, 'moved', target.uuid)
    assert after.parent_provider_uuid == target.uuid
    assert after.root_provider_uuid == target.uuid
    assert get(database, below).root_provider_uuid == target.uuid


def test_moving_a_child_needs_reparenting(database):
    first, second = create(database, 'first'), create(database, 'second')
    child = create(database, 'child', parent=first)
    with pytest.raises(errors.InvalidInput, match='re-parenting a provider '
                       'is not currently allowed'):
        database.write(rp.update, child, 'child', second.uuid)
    with pytest.raises(errors.InvalidInput, match='un-parenting a provider '
                       'is not currently allowed'):
        database.write(rp.update, child, 'child', None)
    assert get(database, child) == child


def test_same_parent_is_not_a_move(database):
    root = create(database, 'root')
    child = create(database, 'child', parent=root)
    after = database.write(rp.update, child, 'renamed', root.uuid)
    assert after.name == 'renamed'
    assert after.parent_provider_uuid == root.uuid


def test_reparent_moves_the_subtree(database):
    first, second = create(database, 'first'), create(database, 'second')
    child = create(database, 'child', parent=first)
    grandchild = create(database, 'grandchild', parent=child)
    after = database.write(rp.update, child, 'child', second.uuid,
                           allow_reparent=True)
    assert after.parent_provider_uuid == second.uuid
    assert after.root_provider_uuid == second.uuid
    assert get(database, grandchild).root_provider_uuid == second.uuid
    assert get(database, grandchild).parent_provider_uuid == child.uuid
    assert database.read(rp.descendant_ids, first.id) == []


def test_unparent_makes_a_new_root(database):
    root = create(database, 'root')
    child = create(database, 'child', parent=root)
    grandchild = create(database, 'grandchild', parent=child)
    after = database.write(rp.update, child, 'child', None,
                           allow_reparent=True)
    assert after.parent_provider_uuid is None
    assert after.root_provider_id == child.id
    assert get(database, grandchild).root_provider_uuid == child.uuid
    assert get(database, root).root_provider_uuid == root.uuid


@pytest.mark.parametrize('moving, new_parent', [
    ('child', 'child'),           # under itself
    ('child', 'grandchild'),      # under its own child
    ('root', 'grandchild'),       # under a deeper descendant
])
def test_loops_are_refused(database, moving, new_parent):
    tree = {'root': create(database, 'root')}
    tree['child'] = create(database, 'child', parent=tree['root'])
    tree['grandchild'] = create(database, 'grandchild',
                                parent=tree['child'])
    before = [get(database, p) for p in tree.values()]
    with pytest.raises(errors.InvalidInput, match='creating loop in the '
                       'provider tree is not allowed'):
        database.write(rp.update, tree[moving], moving,
                       tree[new_parent].uuid, allow_reparent=True)
    assert [get(database, p) for p in tree.values()] == before


def test_move_to_unknown_parent(database):
    provider = create(database, 'p')
    with pytest.raises(errors.InvalidInput, match='parent provider UUID '
                       'does not exist'):
        database.write(rp.update, provider, 'p', new_uuid())
    assert get(database, provider) == provider


# -- delete -----------------------------------------------------------

def _rc_id(database, name):
    return database.read(resource_class.ids_for_names, [name])[name]


def _add_inventory(database, provider, rc_name, total, reserved=0,
                   min_unit=1, max_unit=None, step_size=1,
                   allocation_ratio=1.0):
    rc_id = _rc_id(database, rc_name)
    database.write(lambda conn: conn.execute(
        sa.insert(tables.inventories).values(
            resource_provider_id=provider.id, resource_class_id=rc_id,
            total=total, reserved=reserved, min_unit=min_unit,
            max_unit=max_unit if max_unit is not None else total,
            step_size=step_size, allocation_ratio=allocation_ratio)))


def _allocate(database, provider, rc_name, used):
    rc_id = _rc_id(database, rc_name)
    database.write(lambda conn: conn.execute(
        sa.insert(tables.allocations).values(
            resource_provider_id=provider.id, resource_class_id=rc_id,
            consumer_id=new_uuid(), used=used)))


def test_delete_removes_provider_and_its_rows(database):
    provider = create(database, 'doomed')
    keep = create(database, 'kept')
    avx = database.read(trait.ids_for_names, ['HW_CPU_X86_AVX'])
    agg = new_uuid()
    for p in (provider, keep):
        p = get(database, p)
        database.write(lambda conn: p.set_traits(conn, avx.values()))
        database.write(lambda conn: p.set_aggregates(conn, [agg], True))
        _add_inventory(database, p, 'VCPU', 8)
    database.write(rp.delete, provider.uuid)
    assert database.read(rp.find_by_uuid, provider.uuid) is None
    for table in (tables.inventories, tables.resource_provider_traits,
                  tables.resource_provider_aggregates):
        ids = database.read(lambda conn: set(conn.execute(
            sa.select(table.c.resource_provider_id)).scalars()))
        assert ids == {keep.id}, table.name
    # The aggregate itself stays: the other provider still uses it.
    assert database.read(rp.get_with_aggregates, keep.uuid)[1] == [agg]


def test_delete_unknown(database):
    missing = new_uuid()
    with pytest.raises(errors.ResourceProviderNotFound,
                       match='No resource provider with uuid %s found for '
                             'delete' % missing):
        database.write(rp.delete, missing)


def test_delete_parent_is_refused(database):
    root = create(database, 'root')
    child = create(database, 'child', parent=root)
    with pytest.raises(errors.CannotDeleteParentProvider,
                       match='It has child resource providers'):
        database.write(rp.delete, root.uuid)
    assert get(database, root) == root
    database.write(rp.delete, child.uuid)
    database.write(rp.delete, root.uuid)
    assert count(database, tables.resource_providers) == 0


def test_delete_with_allocations_is_refused(database):
    provider = create(database, 'busy')
    _add_inventory(database, provider, 'VCPU', 4)
    _allocate(database, provider, 'VCPU', 1)
    with pytest.raises(errors.ResourceProviderInUse,
                       match='Resource provider has allocations'):
        database.write(rp.delete, provider.uuid)
    assert get(database, provider) == provider
    assert count(database, tables.inventories) == 1


# -- list filters -----------------------------------------------------

def names(database, **filters):
    found = database.read(rp.list_providers, rp.ListFilters(**filters))
    return [p.name for p in found]


@pytest.fixture
def forest(database):
    """Two trees and a lone provider, with traits and aggregates:

    r1 (AVX, agg A) -> c1 (SSE, aggs A B)
    r2 (AVX SSE, agg B)
    lone
    """
    r1 = create(database, 'r1')
    c1 = create(database, 'c1', parent=r1)
    r2 = create(database, 'r2')
    lone = create(database, 'lone')
    ids = database.read(trait.ids_for_names,
                        ['HW_CPU_X86_AVX', 'HW_CPU_X86_SSE'])
    avx, sse = ids['HW_CPU_X86_AVX'], ids['HW_CPU_X86_SSE']
    agg_a, agg_b = new_uuid(), new_uuid()
    setup = [(r1, [avx], [agg_a]), (c1, [sse], [agg_a, agg_b]),
             (r2, [avx, sse], [agg_b])]
    for provider, trait_ids, aggs in setup:
        fresh = get(database, provider)
        database.write(lambda conn: fresh.set_traits(conn, trait_ids))
        fresh = get(database, provider)
        database.write(lambda conn: fresh.set_aggregates(conn, aggs, True))
    agg_ids = database.read(lambda conn: dict(conn.execute(
        sa.select(tables.placement_aggregates.c.uuid,
                  tables.placement_aggregates.c.id)).all()))
    return {'r1': r1, 'c1': c1, 'r2': r2, 'lone': lone, 'avx': avx,
            'sse': sse, 'A': agg_ids[agg_a], 'B': agg_ids[agg_b]}


def test_list_all_in_id_order(database, forest):
    assert names(database) == ['r1', 'c1', 'r2', 'lone']


def test_list_by_uuid_and_name(database, forest):
    assert names(database, uuid=forest['c1'].uuid) == ['c1']
    assert names(database, name='r2') == ['r2']
    assert names(database, name='r2', uuid=forest['r1'].uuid) == []
    assert names(database, uuid=new_uuid()) == []


def test_list_in_tree(database, forest):
    assert names(database, in_tree=forest['c1'].uuid) == ['r1', 'c1']
    assert names(database, in_tree=forest['r2'].uuid) == ['r2']
    assert names(database, in_tree=new_uuid()) == []


def test_list_member_of(database, forest):
    a, b = forest['A'], forest['B']
    assert names(database, member_of=[[a]]) == ['r1', 'c1']
    assert names(database, member_of=[[a, b]]) == ['r1', 'c1', 'r2']
    assert names(database, member_of=[[a], [b]]) == ['c1']
    assert names(database, forbidden_aggregates=[a]) == ['r2', 'lone']
    assert names(database, member_of=[[b]], forbidden_aggregates=[a]) == [
        'r2']


def test_list_traits(database, forest):
    avx, sse = forest['avx'], forest['sse']
    assert names(database, required_traits=[[avx]]) == ['r1', 'r2']
    assert names(database, required_traits=[[avx], [sse]]) == ['r2']
    assert names(database, required_traits=[[avx, sse]]) == [
        'r1', 'c1', 'r2']
    assert names(database, forbidden_traits=[avx]) == ['c1', 'lone']
    assert names(database, required_traits=[[sse]],
                 forbidden_traits=[avx]) == ['c1']


def test_list_resources(database, forest):
    vcpu = _rc_id(database, 'VCPU')
    mem = _rc_id(database, 'MEMORY_MB')
    # r1: 8 VCPU, 2 reserved, ratio 2 -> capacity 12, 10 used -> 2 free.
    _add_inventory(database, forest['r1'], 'VCPU', 8, reserved=2,
                   allocation_ratio=2.0)
    _allocate(database, forest['r1'], 'VCPU', 10)
    # r2: 16 VCPU, max 4 per allocation, step 2; 1024 MB.
    _add_inventory(database, forest['r2'], 'VCPU', 16, max_unit=4,
                   step_size=2)
    _add_inventory(database, forest['r2'], 'MEMORY_MB', 1024, min_unit=256)
    assert names(database, resources={vcpu: 2}) == ['r1', 'r2']
    assert names(database, resources={vcpu: 3}) == []  # r1 full, r2 step
    assert names(database, resources={vcpu: 4}) == ['r2']
    assert names(database, resources={vcpu: 6}) == []  # r2 max_unit
    assert names(database, resources={mem: 128}) == []  # min_unit
    assert names(database, resources={vcpu: 2, mem: 512}) == ['r2']
    assert names(database, resources={vcpu: 2},
                 required_traits=[[forest['avx']]],
                 member_of=[[forest['A']]]) == ['r1']
