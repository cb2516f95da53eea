"""Combining the pieces of every request group into candidates.

Under each anchor tree that every group can be served in, every choice
of one piece per group is a preliminary candidate.  It is kept when:

- ``group_policy=isolate``: the suffixed groups are served by as many
  distinct providers as there are suffixed groups;
- each ``same_subtree`` set of suffixes: one of the providers serving
  those groups is an ancestor of (or is) all the others;
- the amounts summed per provider and class still fit the inventory
  (capacity and ``max_unit``): groups were checked one by one.

Choices are visited in order, and a choice whose first pieces already
break the isolate or capacity rule is not extended, so a wide tree (many
like children asked for by as many groups) costs about as much as the
candidates it has.  Identical candidates found under several anchors
count once.  A group served by sharing providers alone is offered under
every tree they serve, so it combines with the other groups' pieces in
each of those trees.  Anchors are visited in id order; with a bound on
how many candidates to compute, ``depth-first`` exhausts one anchor
before the next while ``breadth-first`` takes one candidate from each
anchor in turn.
"""

import collections
import dataclasses
import itertools

from placement.objects.candidates import request as request_mod


@dataclasses.dataclass(frozen=True, order=True)
class Candidate:
    """One allocation request: ``amounts`` holds sorted (provider id,
    class id, amount) triples, one per provider and class; ``mappings``
    sorted (suffix, sorted provider ids) pairs."""
    amounts: tuple
    mappings: tuple

    def providers(self):
        return {provider_id for provider_id, _, _ in self.amounts}


def _ancestry(provider_id, parents):
    chain = set()
    while provider_id is not None and provider_id not in chain:
        chain.add(provider_id)
        provider_id = parents.get(provider_id)
    return chain


def _same_subtree(providers, parents):
    """Is one of ``providers`` an ancestor (or itself) of all of them?"""
    if len(providers) < 2:
        return True
    common = set.intersection(*(_ancestry(p, parents) for p in providers))
    return bool(common & providers)


class Combiner:
    """Combines the per-group pieces (a list aligned with ``groups``)."""

    def __init__(self, search, pieces, capacity, parents):
        self.groups = search.groups
        self.pieces = pieces
        self.capacity = capacity
        self.parents = parents
        self.isolate = search.group_policy == request_mod.ISOLATE
        self.suffixed = sum(1 for g in self.groups if g.single_provider)
        self.subtrees = [
            [i for i, g in enumerate(self.groups) if g.suffix in suffixes]
            for suffixes in search.same_subtrees]
        self.bound = search.max_candidates
        self.strategy = search.strategy

    def anchors(self):
        common = set(self.pieces[0])
        for by_anchor in self.pieces[1:]:
            common &= set(by_anchor)
        return sorted(common)

    def candidates(self):
        """The distinct candidates, in generation order, at most
        ``max_candidates`` of them when that is not -1."""
        streams = [self._under(anchor) for anchor in self.anchors()]
        if self.strategy == request_mod.BREADTH_FIRST:
            merged = _round_robin(streams)
        else:
            merged = itertools.chain.from_iterable(streams)
        found = {}
        for candidate in merged:
            found.setdefault(candidate, None)
            if 0 <= self.bound <= len(found):
                break
        return list(found)

    def _under(self, anchor):
        lists = [by_anchor[anchor] for by_anchor in self.pieces]
        for choice in self._choices(lists):
            candidate = self._combine(choice)
            if candidate is not None:
                yield candidate

    def _choices(self, lists):
        """The choices of ``itertools.product(*lists)``, in its order,
        except those whose first pieces already break a rule that more
        pieces cannot mend: two suffixed groups on one provider under
        ``isolate``, or more than a provider holds (amounts only add
        up).  A wide tree (many like children, as many groups) has few
        valid choices among very many: they are found without visiting
        the others.  ``_combine`` still checks every rule."""
        depth = len(lists)
        isolating = [self.isolate and group.single_provider
                     for group in self.groups]
        inventory = self.capacity.get
        totals = collections.Counter()
        used = set()
        choice = [None] * depth

        def extend(level):
            for piece in lists[level]:
                if isolating[level] and not used.isdisjoint(piece.providers):
                    continue
                if not all(inventory(p, rc).holds(totals[p, rc] + amount)
                           for p, rc, amount in piece.amounts):
                    continue
                choice[level] = piece
                if level + 1 == depth:
                    yield tuple(choice)
                    continue
                for p, rc, amount in piece.amounts:
                    totals[p, rc] += amount
                if isolating[level]:
                    used.update(piece.providers)
                yield from extend(level + 1)
                for p, rc, amount in piece.amounts:
                    totals[p, rc] -= amount
                if isolating[level]:
                    used.difference_update(piece.providers)

        return extend(0)

    def _combine(self, choice):
        if len(choice) == 1:
            # One group: its pieces were checked and hold one amount per
            # provider and class already.
            [piece] = choice
            return Candidate(piece.amounts, (
                (self.groups[0].suffix, tuple(sorted(piece.providers))),))
        if self.isolate:
            used = set()
            for group, piece in zip(self.groups, choice):
                if group.single_provider:
                    used |= piece.providers
            if len(used) != self.suffixed:
                return None
        for members in self.subtrees:
            providers = set()
            for index in members:
                providers |= choice[index].providers
            if not _same_subtree(providers, self.parents):
                return None
        totals = collections.Counter()
        for piece in choice:
            for provider_id, rc_id, amount in piece.amounts:
                totals[provider_id, rc_id] += amount
        for (provider_id, rc_id), amount in totals.items():
            if not self.capacity.get(provider_id, rc_id).holds(amount):
                return None
        mappings = tuple(sorted(
            (group.suffix, tuple(sorted(piece.providers)))
            for group, piece in zip(self.groups, choice)))
        amounts = tuple(sorted((p, rc, n) for (p, rc), n in totals.items()))
        return Candidate(amounts, mappings)


def _round_robin(streams):
    streams = list(streams)
    while streams:
        alive = []
        for stream in streams:
            item = next(stream, None)
            if item is not None:
                yield item
                alive.append(stream)
        streams = alive
