"""Combining request groups' pieces into candidates
(``placement.objects.candidates.merge``).

The combiner does not extend a choice whose first pieces already break
the isolate or capacity rule.  These tests hold it to the plain rule:
the candidates, and the order they are generated in (which decides what
a bound on their number keeps), are those of every choice of
``itertools.product`` that ``_combine`` accepts.
"""

import itertools
import random

import pytest

from placement.objects.candidates import capacity as capacity_mod
from placement.objects.candidates import groups as groups_mod
from placement.objects.candidates import merge
from placement.objects.candidates import request as request_mod

VGPU, DISK = 1, 2


def _inventory(provider_id, rc_id, total, used=0, max_unit=None):
    return capacity_mod.Inventory(provider_id, rc_id, total, 0, 1,
                                  max_unit or total, 1, 1.0, used)


def _piece(anchor, *amounts):
    return groups_mod.Piece(anchor, tuple(sorted(amounts)),
                            frozenset(p for p, _, _ in amounts))


def _plain(combiner):
    """The candidates with no choice left out early: every choice of the
    product, checked whole."""
    found = {}
    for anchor in combiner.anchors():
        lists = [by_anchor[anchor] for by_anchor in combiner.pieces]
        for choice in itertools.product(*lists):
            candidate = combiner._combine(choice)
            if candidate is not None:
                found.setdefault(candidate, None)
    return list(found)


def _wide_tree(rng):
    """A root (id 1) with children 2..n+1, each some VGPU and DISK; a
    random mix of suffixed and unsuffixed groups asking for them."""
    children = range(2, rng.randint(2, 7) + 2)
    inventories = []
    for child in children:
        inventories.append(_inventory(child, VGPU, rng.randint(1, 3),
                                      used=rng.randint(0, 1)))
        inventories.append(_inventory(child, DISK, rng.randint(2, 6),
                                      max_unit=rng.randint(2, 6)))
    by_class = {}
    for inventory in inventories:
        by_class.setdefault(inventory.resource_class_id, []).append(
            inventory)
    capacity = capacity_mod.Capacity(by_class, {p: 1 for p in children},
                                     set())
    groups, pieces = [], []
    for index in range(rng.randint(2, 5)):
        rc_id = rng.choice((VGPU, DISK))
        amount = rng.randint(1, 2)
        groups.append(request_mod.RequestGroup(
            suffix=str(index) if rng.random() < 0.8 else '',
            resources={rc_id: amount}))
        pieces.append({1: [_piece(1, (child, rc_id, amount))
                           for child in children
                           if capacity.get(child, rc_id).fits(amount)]})
    subtrees = []
    suffixes = [g.suffix for g in groups if g.suffix]
    if len(suffixes) > 1 and rng.random() < 0.3:
        subtrees.append(set(rng.sample(suffixes, 2)))
    search = request_mod.Search(
        groups=groups, same_subtrees=subtrees,
        group_policy=rng.choice((request_mod.ISOLATE, None)))
    parents = {child: 1 for child in children}
    parents[1] = None
    return search, pieces, capacity, parents


@pytest.mark.parametrize('seed', range(300))
def test_same_candidates_in_the_same_order_as_every_choice(seed):
    search, pieces, capacity, parents = _wide_tree(random.Random(seed))
    combiner = merge.Combiner(search, pieces, capacity, parents)
    assert combiner.candidates() == _plain(combiner)


@pytest.mark.parametrize('bound', [1, 5, 30])
def test_a_bound_keeps_the_first_candidates_of_every_choice(bound):
    for seed in range(40):
        search, pieces, capacity, parents = _wide_tree(random.Random(seed))
        search.max_candidates = bound
        combiner = merge.Combiner(search, pieces, capacity, parents)
        assert combiner.candidates() == _plain(combiner)[:bound]


def test_many_like_children_give_each_group_its_own():
    """Eight children with one VGPU each, eight isolated groups of one
    VGPU: every assignment of groups to distinct children (8!) and no
    other; the product has 8**8 choices."""
    children = list(range(2, 10))
    capacity = capacity_mod.Capacity(
        {VGPU: [_inventory(c, VGPU, 1) for c in children]},
        {c: 1 for c in children}, set())
    groups = [request_mod.RequestGroup(suffix=str(n), resources={VGPU: 1})
              for n in range(8)]
    pieces = [{1: [_piece(1, (c, VGPU, 1)) for c in children]}
              for _ in groups]
    search = request_mod.Search(groups=groups,
                                group_policy=request_mod.ISOLATE)
    candidates = merge.Combiner(search, pieces, capacity, {}).candidates()
    assert len(candidates) == 40320
    for candidate in candidates:
        providers = [ids for _, ids in candidate.mappings]
        assert len(set(providers)) == 8
    # Without isolate, the capacity of one VGPU per child is what keeps
    # two groups apart: the same candidates.
    search.group_policy = None
    assert merge.Combiner(search, pieces, capacity, {}).candidates() == \
        candidates
