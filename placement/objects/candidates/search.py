"""Running an allocation candidates search: the queries, then Python.

Round trips: the candidate inventory (one query), the providers of
resourceless groups (one each), the traits and aggregates the request
names and the trees sharing providers serve (one each, only when
needed), provider parents (only for ``same_subtree``), and the summaries
of the trees in the answer (two).
"""

import dataclasses
import random

from placement.objects.candidates import capacity as capacity_mod
from placement.objects.candidates import groups as groups_mod
from placement.objects.candidates import merge
from placement.objects.candidates import relations
from placement.objects.candidates import summaries as summaries_mod


@dataclasses.dataclass
class AllocationRequest:
    """``allocations``: {provider uuid: {class name: amount}};
    ``mappings``: {suffix: [provider uuid]}."""
    allocations: dict
    mappings: dict


@dataclasses.dataclass
class Result:
    requests: list
    summaries: list    # of summaries.ProviderSummary


EMPTY = Result([], [])


def find(conn, search, class_names):
    """The ``Result`` of ``search`` (a ``request.Search``);
    ``class_names`` maps the requested class ids to names."""
    candidates, facts = _candidates(conn, search)
    if not candidates:
        return EMPTY
    if not search.nested_aware:
        candidates = _one_provider_per_tree(candidates, facts.roots)
    used_before_limit = set()
    for candidate in candidates:
        used_before_limit |= candidate.providers()
    candidates = _limit(search, sorted(candidates))
    if not candidates:
        return EMPTY
    used = {p for c in candidates for p in c.providers()}
    trees = {facts.roots[p] for p in used}
    everyone = {p for c in candidates for _, ids in c.mappings for p in ids}
    loaded = summaries_mod.load(
        conn, trees | {facts.roots[p] for p in everyone},
        search.summary_traits)
    uuids = {s.id: s.uuid for s in loaded.values()}
    if not (used | everyone) <= uuids.keys():
        # Each query reads the latest committed state: a provider that a
        # concurrent write deleted or moved to another tree since the
        # candidates were found has no summary here, and the candidates
        # using it are left out.
        candidates = [c for c in candidates
                      if _everyone_in(c) <= uuids.keys()]
        trees = {facts.roots[p] for c in candidates for p in c.providers()}
    shown = [s for s in loaded.values() if s.root_id in trees and (
        search.nested_aware or s.id in used_before_limit)]
    return Result([_request(c, uuids, class_names) for c in candidates],
                  shown)


def _everyone_in(candidate):
    """The providers a candidate allocates from or maps a group to."""
    mapped = {p for _, ids in candidate.mappings for p in ids}
    return candidate.providers() | mapped


def _candidates(conn, search):
    """(list of merge.Candidate, groups.Facts) before any limit."""
    groups = search.groups
    if any(g.no_tree for g in groups):
        return [], None
    cap = capacity_mod.load(conn, {
        (rc_id, amount, g.tree_root)
        for g in groups for rc_id, amount in g.resources.items()})
    if any(rc_id not in cap.by_class for g in groups for rc_id in g.resources):
        return [], None
    matching = {g.suffix: relations.matching_providers(conn, g)
                for g in groups if not g.resources}
    if any(not rows for rows in matching.values()):
        return [], None
    roots = dict(cap.roots)
    sharing = set(cap.sharing)
    for rows in matching.values():
        for provider_id, root_id, shares in rows:
            roots[provider_id] = root_id
            if shares:
                sharing.add(provider_id)
    facts = groups_mod.Facts(
        capacity=cap,
        traits=relations.traits_of_interest(conn, search.trait_ids()),
        aggregates=relations.aggregates_of_interest(
            conn, search.aggregate_ids()),
        anchors=relations.sharing_anchors(conn, sharing),
        roots=roots, root_required=search.root_required,
        root_forbidden=search.root_forbidden)
    pieces = []
    for group in groups:
        found = groups_mod.pieces(group, facts, matching.get(group.suffix),
                                  search.max_candidates)
        if not found:
            return [], facts
        pieces.append(found)
    parents = {}
    if search.same_subtrees:
        parents = relations.parents(conn, {
            roots[p] for by_anchor in pieces for found in by_anchor.values()
            for piece in found for p in piece.providers})
    combiner = merge.Combiner(search, pieces, cap, parents)
    return combiner.candidates(), facts


def _one_provider_per_tree(candidates, roots):
    """Before 1.29 a candidate may not use two providers of one tree."""
    kept = []
    for candidate in candidates:
        providers = candidate.providers()
        if len({roots[p] for p in providers}) == len(providers):
            kept.append(candidate)
    return kept


def _limit(search, candidates):
    limit = search.limit
    if search.randomize:
        if limit is not None and limit < len(candidates):
            return random.sample(candidates, limit)
        random.shuffle(candidates)
        return candidates
    return candidates[:limit] if limit is not None else candidates


def _request(candidate, uuids, class_names):
    allocations = {}
    for provider_id, rc_id, amount in candidate.amounts:
        allocations.setdefault(uuids[provider_id], {})[
            class_names[rc_id]] = amount
    mappings = {suffix: sorted(uuids[p] for p in ids)
                for suffix, ids in candidate.mappings}
    return AllocationRequest(allocations, mappings)
