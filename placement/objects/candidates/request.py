"""What an allocation candidates search asks for, with names resolved to
database ids.

A search is a list of request groups plus request-wide settings.  The
unsuffixed group (suffix ``''``) may be served by several providers of one
tree and by sharing providers; a suffixed group is served by exactly one
provider.
"""

import dataclasses

DEPTH_FIRST = 'depth-first'
BREADTH_FIRST = 'breadth-first'
ISOLATE = 'isolate'


@dataclasses.dataclass
class RequestGroup:
    """One request group.

    ``required_traits`` is a list of any-of sets of trait ids (a provider,
    or for the unsuffixed group the providers together, must have one trait
    of each set); ``member_of`` likewise for aggregate ids.  An empty set
    in either list can be satisfied by no provider (it named only unknown
    aggregates).  ``tree_root`` is the root id of the ``in_tree``
    provider; ``no_tree`` says ``in_tree`` named a provider that does not
    exist, so nothing can serve the group.
    """
    suffix: str = ''
    resources: dict = dataclasses.field(default_factory=dict)
    required_traits: list = dataclasses.field(default_factory=list)
    forbidden_traits: frozenset = frozenset()
    member_of: list = dataclasses.field(default_factory=list)
    forbidden_aggregates: frozenset = frozenset()
    tree_root: int | None = None
    no_tree: bool = False

    @property
    def single_provider(self):
        """Suffixed groups are served by one provider each."""
        return self.suffix != ''

    def trait_ids(self):
        ids = set(self.forbidden_traits)
        for any_of in self.required_traits:
            ids |= any_of
        return ids

    def aggregate_ids(self):
        ids = set(self.forbidden_aggregates)
        for any_of in self.member_of:
            ids |= any_of
        return ids


@dataclasses.dataclass
class Search:
    """A whole allocation candidates request.

    ``nested_aware`` is False before microversion 1.29: candidates using
    two providers of one tree are dropped and summaries list only the
    providers used.  ``max_candidates`` (-1: no bound) caps how many
    candidates are computed, generated per anchor tree in ``strategy``
    order; ``limit`` then cuts the sorted (or, with ``randomize``,
    sampled) list.
    """
    groups: list
    group_policy: str | None = None
    same_subtrees: list = dataclasses.field(default_factory=list)
    root_required: frozenset = frozenset()
    root_forbidden: frozenset = frozenset()
    limit: int | None = None
    nested_aware: bool = True
    summary_traits: bool = True
    max_candidates: int = -1
    randomize: bool = False
    strategy: str = DEPTH_FIRST

    def trait_ids(self):
        ids = set(self.root_required) | set(self.root_forbidden)
        for group in self.groups:
            ids |= group.trait_ids()
        return ids

    def aggregate_ids(self):
        ids = set()
        for group in self.groups:
            ids |= group.aggregate_ids()
        return ids
