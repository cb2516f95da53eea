"""Which providers can serve each request group, per anchor tree.

The answer for one group is a dict from anchor (the root id of the
non-sharing tree a candidate is built around) to a list of ``Piece``:
the providers and amounts serving the group there.

- A suffixed group, or one that asks for no resources, is served by one
  provider that has every resource, trait and aggregate the group asks
  for by itself.  Its anchor is the provider's root, and for a sharing
  provider also every tree it shares with.
- The unsuffixed group may be served by several providers of one tree
  plus sharing providers: each resource class by any provider that can
  take its amount; the providers used must together have the required
  traits, and none of them a forbidden one.  ``member_of`` is met by the
  provider or by its tree's root (an aggregate on a root spans the
  tree); a sharing provider must be in the aggregates itself.  Forbidden
  aggregates exclude a provider in them and every provider whose root,
  or anchor for a sharing provider, is in them.  ``in_tree`` keeps only
  the providers of that tree (and no sharing providers of other trees).

Anchors whose root fails ``root_required`` are dropped here.
"""

import collections
import dataclasses
import itertools


@dataclasses.dataclass(frozen=True)
class Piece:
    """How one group is served under one anchor.  ``amounts`` holds
    sorted (provider id, class id, amount) triples; ``providers`` the
    providers serving the group (listed in the candidate's mappings)."""
    anchor: int
    amounts: tuple
    providers: frozenset


@dataclasses.dataclass
class Facts:
    """What the database said about the providers a search can use."""
    capacity: object                # capacity.Capacity
    traits: dict                    # {provider id: {trait id of interest}}
    aggregates: dict                # {provider id: {aggregate id of interest}}
    anchors: dict                   # {sharing provider id: {root id}}
    roots: dict                     # {provider id: root id}
    root_required: frozenset = frozenset()
    root_forbidden: frozenset = frozenset()

    def root_ok(self, root_id):
        """Does this tree's root satisfy ``root_required``?"""
        traits = self.traits.get(root_id, set())
        return self.root_required <= traits and \
            not self.root_forbidden & traits

    def in_aggregates(self, provider_id, member_of):
        aggs = self.aggregates.get(provider_id, set())
        return all(aggs & any_of for any_of in member_of)

    def in_any(self, provider_id, aggregate_ids):
        return bool(self.aggregates.get(provider_id, set()) & aggregate_ids)

    def has_traits(self, provider_ids, required):
        if not required:
            return True
        traits = set()
        for provider_id in provider_ids:
            traits |= self.traits.get(provider_id, set())
        return all(traits & any_of for any_of in required)

    def has_any_trait(self, provider_id, trait_ids):
        return bool(self.traits.get(provider_id, set()) & trait_ids)


def pieces(group, facts, matching=None, cap=-1):
    """{anchor id: [Piece]} for ``group``.  ``matching`` lists the
    (id, root id, sharing) of providers meeting a resourceless group's
    filters; ``cap`` (-1: none) bounds the pieces kept per anchor."""
    if group.no_tree:
        return {}
    if group.single_provider or not group.resources:
        return _single_provider(group, facts, matching)
    return _tree(group, facts, cap)


def _fitting(group, facts, rc_id, amount):
    for inv in facts.capacity.by_class.get(rc_id, ()):
        if inv.fits(amount) and (group.tree_root is None or
                                 facts.roots[inv.provider_id] ==
                                 group.tree_root):
            yield inv.provider_id


def _serves_alone(group, facts, provider_id):
    return (facts.has_traits([provider_id], group.required_traits)
            and not facts.has_any_trait(provider_id, group.forbidden_traits)
            and facts.in_aggregates(provider_id, group.member_of)
            and not facts.in_any(provider_id, group.forbidden_aggregates))


def _single_provider(group, facts, matching):
    if group.resources:
        found = None
        for rc_id, amount in group.resources.items():
            ids = set(_fitting(group, facts, rc_id, amount))
            found = ids if found is None else found & ids
        matching = [(p, facts.roots[p], p in facts.capacity.sharing)
                    for p in sorted(found)
                    if _serves_alone(group, facts, p)]
    result = collections.defaultdict(list)
    for provider_id, root_id, sharing in matching or ():
        amounts = tuple(sorted((provider_id, rc_id, amount)
                               for rc_id, amount in group.resources.items()))
        anchors = {root_id}
        if sharing:
            anchors |= facts.anchors.get(provider_id, set())
        for anchor in sorted(anchors):
            if facts.root_ok(anchor):
                result[anchor].append(
                    Piece(anchor, amounts, frozenset([provider_id])))
    return dict(result)


def _tree_providers(group, facts):
    """{anchor: {class id: {provider id}}} for the unsuffixed group."""
    found = collections.defaultdict(lambda: collections.defaultdict(set))
    member_of, bad_aggs = group.member_of, group.forbidden_aggregates
    for rc_id, amount in group.resources.items():
        for p in _fitting(group, facts, rc_id, amount):
            if facts.has_any_trait(p, group.forbidden_traits) or \
                    facts.in_any(p, bad_aggs):
                continue
            root = facts.roots[p]
            if (not member_of or facts.in_aggregates(p, member_of) or
                    facts.in_aggregates(root, member_of)) and \
                    not facts.in_any(root, bad_aggs):
                found[root][rc_id].add(p)
            if group.tree_root is not None or \
                    p not in facts.capacity.sharing:
                continue
            if member_of and not facts.in_aggregates(p, member_of):
                continue
            for anchor in facts.anchors.get(p, ()):
                if not facts.in_any(anchor, bad_aggs):
                    found[anchor][rc_id].add(p)
    return found


def _tree(group, facts, cap):
    rc_ids = sorted(group.resources)
    result = {}
    for anchor, by_class in sorted(_tree_providers(group, facts).items()):
        if len(by_class) != len(rc_ids) or not facts.root_ok(anchor):
            continue
        found = []
        choices = itertools.product(*(sorted(by_class[rc]) for rc in rc_ids))
        for choice in choices:
            if not facts.has_traits(set(choice), group.required_traits):
                continue
            amounts = tuple(sorted(
                (p, rc_id, group.resources[rc_id])
                for p, rc_id in zip(choice, rc_ids)))
            found.append(Piece(anchor, amounts, frozenset(choice)))
            if 0 <= cap <= len(found):
                break
        if found:
            result[anchor] = found
    return result
