"""Allocation candidates: which sets of providers can serve a request.

- ``request``: the search, with names resolved to ids;
- ``capacity``: the inventories able to take the requested amounts;
- ``relations``: traits, aggregates, sharing and tree facts;
- ``groups``: the providers serving each request group, per anchor tree;
- ``merge``: combining groups under group policy, same_subtree and
  capacity;
- ``summaries``: provider summaries of the trees in the answer;
- ``search``: running it all (``find``).

Nothing here knows about microversions or JSON: the API layer decides
what to ask and how to render the ``search.Result``.
"""
