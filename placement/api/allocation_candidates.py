"""``GET /allocation_candidates`` (from microversion 1.10).

The query string is checked against the microversion's schema, then read
into request groups (``resources``, ``required``, ``member_of`` and
``in_tree``, suffixed from 1.25) and request-wide settings (``limit``,
``group_policy``, ``root_required``, ``same_subtree``).  Names become ids
inside the read transaction, ``placement.objects.candidates`` finds the
candidates, and the answer is rendered in the shape of the microversion.
"""

import dataclasses
import re

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_query as pq
from placement.microversion import Versioned, since
from placement.objects import aggregate as aggregate_obj
from placement.objects import resource_provider as rp_obj
from placement.objects import trait as trait_obj
from placement.objects.candidates import request as request_mod
from placement.objects.candidates import search as search_mod
from placement.schemas import allocation_candidate as schema


@dataclasses.dataclass(frozen=True)
class Shape:
    """What a microversion's answer looks like."""
    allocation_list: bool = False   # allocations as a list (1.10-1.11)
    traits: bool = False            # summaries list traits (1.17)
    all_resources: bool = False     # summaries list every class (1.27)
    nested: bool = False            # trees in candidates, summaries (1.29)
    mappings: bool = False          # group mappings per request (1.34)


SHAPE = Versioned({
    '1.10': Shape(allocation_list=True),
    '1.12': Shape(),
    '1.17': Shape(traits=True),
    '1.27': Shape(traits=True, all_resources=True),
    '1.29': Shape(traits=True, all_resources=True, nested=True),
    '1.34': Shape(traits=True, all_resources=True, nested=True,
                  mappings=True),
})
# From 1.36 a suffixed group may ask for no resources if it is named in
# same_subtree; before, every group needs resources.
_RESOURCELESS = Versioned({'1.10': False, '1.36': True})
# Request-wide parameters whose first value counts when repeated.
_FIRST_WINS = ('limit', 'group_policy')
# root_required takes required's syntax without the any-of form.
_ROOT_SYNTAX = pq.Syntax(forbidden_traits=True)


def _bad(detail, code=errors.UNDEFINED):
    return errors.bad_request(detail, code)


@dataclasses.dataclass
class ParsedGroup:
    """A request group as written: names and uuids, not yet ids."""
    suffix: str
    resources: dict = dataclasses.field(default_factory=dict)
    required: tuple = ((), ())
    member_of: tuple = ((), ())
    in_tree: str | None = None


@dataclasses.dataclass
class Parsed:
    groups: dict                     # {suffix: ParsedGroup}, query order
    limit: int | None = None
    group_policy: str | None = None
    root_required: tuple = ((), ())
    same_subtrees: list = dataclasses.field(default_factory=list)


def _validate(req, version):
    params = {}
    for key in req.params:
        values = jsonio.query_all(req, key)
        params[key] = values[0] if key in _FIRST_WINS else values[-1]
    jsonio.validate_query(req, params, schema.QUERY[version])
    return params


def _group_key(version):
    suffix = schema.SUFFIX[version]
    keys = '|'.join(schema.GROUP_KEYS)
    if suffix is None:
        return re.compile('^(%s)()$' % keys)
    return re.compile('^(%s)(%s)?$' % (keys, suffix))


def _parse_group(group, key, param, values, syntax):
    if key == 'resources':
        group.resources = pq.parse_resources(values[-1])
    elif key == 'required':
        group.required = pq.parse_required(values, syntax, param)
    elif key == 'member_of':
        group.member_of = pq.parse_member_of(values, syntax, param)
    else:
        group.in_tree = pq.canonical_uuid(values[-1])
        if group.in_tree is None:
            raise _bad("Invalid query string parameters: Expected '%s' "
                       "parameter to be a format of uuid. Got: %s"
                       % (param, values[-1]))


def _parse_root_required(req):
    values = jsonio.query_all(req, 'root_required')
    if not values:
        return (), ()
    if len(values) > 1:
        raise _bad("Query parameter 'root_required' may be specified only "
                   "once.", errors.QUERY_DUPLICATE_KEY)
    if any(v.strip().startswith('in:') for v in values[0].split(',')):
        raise _bad("Invalid query string parameters: 'root_required' "
                   "does not support the 'in:' any-of form. Got: %s"
                   % values[0])
    required, forbidden = pq.parse_required(
        values, _ROOT_SYNTAX, 'root_required')
    conflicts = sorted({t for [t] in required} & set(forbidden))
    if conflicts:
        raise _bad('Conflicting required and forbidden traits found in '
                   'root_required: %s' % ', '.join(conflicts),
                   errors.QUERY_BAD_VALUE)
    return required, forbidden


def _parse_same_subtree(req):
    subtrees = []
    for value in jsonio.query_all(req, 'same_subtree'):
        suffixes = value.split(',')
        if '' in suffixes:
            raise _bad('Empty string (unsuffixed group) can not be '
                       'specified in `same_subtree`: %s' % value,
                       errors.QUERY_BAD_VALUE)
        subtrees.append(frozenset(suffixes))
    return subtrees


def parse(req):
    """The ``Parsed`` request, or 400 for a query string that is badly
    formed or inconsistent."""
    version = req.context.version
    params = _validate(req, version)
    parsed = Parsed(groups={})
    if 'limit' in params:
        parsed.limit = int(params['limit'])
    parsed.group_policy = params.get('group_policy')
    parsed.root_required = _parse_root_required(req)
    parsed.same_subtrees = _parse_same_subtree(req)
    syntax = pq.SYNTAX[version]
    group_key = _group_key(version)
    for param in req.params:
        match = group_key.match(param)
        if match is None:
            continue
        key, suffix = match.group(1), match.group(2) or ''
        group = parsed.groups.setdefault(suffix, ParsedGroup(suffix))
        _parse_group(group, key, param, jsonio.query_all(req, param),
                     syntax)
    if _RESOURCELESS[version]:
        _check_resourceless(parsed)
    else:
        _check_orphans(parsed.groups)
    if syntax.forbidden_traits:
        _check_conflicts(parsed.groups)
    suffixed = [s for s in parsed.groups if s]
    if len(suffixed) > 1 and parsed.group_policy is None:
        raise _bad('The "group_policy" parameter is required when '
                   'specifying more than one "resources{N}" parameter.')
    return parsed


def _check_conflicts(groups):
    found = []
    for suffix, group in groups.items():
        required, forbidden = group.required
        conflicts = sorted({t for t in forbidden
                            if any(g == [t] for g in required)})
        if conflicts:
            found.append('required%s: (%s)' % (suffix, ', '.join(conflicts)))
    if found:
        raise _bad('Conflicting required and forbidden traits found in the '
                   'following traits keys: %s' % ', '.join(found),
                   errors.QUERY_BAD_VALUE)


def _check_orphans(groups):
    for what, attr in (('traits', 'required'), ('member_of', 'member_of')):
        orphans = ['%s%s' % (attr, s) for s, g in groups.items()
                   if any(getattr(g, attr)) and not g.resources]
        if orphans:
            raise _bad('All %s parameters must be associated with '
                       'resources. Found the following orphaned %s keys: '
                       '%s' % (what, what, ', '.join(orphans)))
    if not all(g.resources for g in groups.values()):
        raise _bad('All request groups must specify resources.')
    if not groups:
        raise _bad('At least one request group (`resources` or '
                   '`resources{$S}`) is required.')


def _check_resourceless(parsed):
    groups = parsed.groups
    if not any(g.resources for g in groups.values()):
        raise _bad('There must be at least one resources or resources[$S] '
                   'parameter.', errors.QUERY_MISSING_VALUE)
    named = set().union(*parsed.same_subtrees)
    bad = [s for s, g in groups.items() if not g.resources and s not in named]
    if bad:
        raise _bad('Resourceless suffixed group request should be '
                   'specified in `same_subtree` query param: bad group(s) - '
                   '%s.' % bad, errors.QUERY_BAD_VALUE)
    unknown = sorted(named - set(groups))
    if unknown:
        raise _bad('Real suffixes should be specified in `same_subtree`: '
                   '%s not found in %s.' % (unknown, list(groups)),
                   errors.QUERY_BAD_VALUE)


# -- names to ids (inside the read transaction) -----------------------

def _search(conn, parsed, options):
    """(request.Search, {class id: name}) for ``parsed``."""
    groups = list(parsed.groups.values())
    class_ids = pq.resolve_class_ids(
        conn, {name for g in groups for name in g.resources})
    trait_names = set()
    aggregate_uuids = set()
    for group in groups:
        required, forbidden = group.required
        trait_names.update(forbidden, *required)
        chosen, excluded = group.member_of
        aggregate_uuids.update(excluded, *chosen)
    trait_names.update(parsed.root_required[1], *parsed.root_required[0])
    traits = trait_obj.find_ids(conn, trait_names) if trait_names else {}
    aggregates = aggregate_obj.ids_by_uuid(conn, aggregate_uuids)
    trees = {}
    resolved = []
    for group in groups:
        required, forbidden = pq.resolve_traits(
            conn, *group.required, found=traits)
        member_of, excluded = pq.resolve_aggregates(
            conn, *group.member_of, known=aggregates)
        resolved.append(request_mod.RequestGroup(
            suffix=group.suffix,
            resources={class_ids[n]: a for n, a in group.resources.items()},
            required_traits=[frozenset(g) for g in required],
            forbidden_traits=frozenset(forbidden),
            member_of=[frozenset(g) for g in member_of],
            forbidden_aggregates=frozenset(excluded)))
        if group.in_tree is not None:
            if group.in_tree not in trees:
                trees[group.in_tree] = rp_obj.find_by_uuid(
                    conn, group.in_tree)
            provider = trees[group.in_tree]
            resolved[-1].tree_root = provider and provider.root_provider_id
            resolved[-1].no_tree = provider is None
    root_required, root_forbidden = pq.resolve_traits(
        conn, *parsed.root_required, found=traits)
    search = request_mod.Search(
        groups=resolved, group_policy=parsed.group_policy,
        same_subtrees=parsed.same_subtrees,
        root_required=frozenset(t for [t] in root_required),
        root_forbidden=frozenset(root_forbidden),
        limit=parsed.limit, **options)
    return search, {i: name for name, i in class_ids.items()}


def _find(conn, parsed, options):
    search, class_names = _search(conn, parsed, options)
    return search_mod.find(conn, search, class_names)


# -- rendering --------------------------------------------------------

def _render_request(request, shape):
    if shape.allocation_list:
        body = {'allocations': [
            {'resource_provider': {'uuid': uuid}, 'resources': resources}
            for uuid, resources in request.allocations.items()]}
    else:
        body = {'allocations': {
            uuid: {'resources': resources}
            for uuid, resources in request.allocations.items()}}
    if shape.mappings:
        body['mappings'] = request.mappings
    return body


def _render_summary(summary, shape, requested):
    resources = {
        name: {'capacity': capacity, 'used': used}
        for name, (capacity, used) in summary.resources.items()
        if shape.all_resources or name in requested}
    body = {'resources': resources}
    if shape.traits:
        body['traits'] = summary.traits
    if shape.nested:
        body['parent_provider_uuid'] = summary.parent_uuid
        body['root_provider_uuid'] = summary.root_uuid
    return body


def render(result, shape, requested):
    """The response body for ``result``; ``requested`` holds the class
    names asked for (summaries list only those before 1.27)."""
    return {
        'allocation_requests': [_render_request(r, shape)
                                for r in result.requests],
        'provider_summaries': {
            s.uuid: _render_summary(s, shape, requested)
            for s in result.summaries},
    }


class AllocationCandidates(api.Resource):
    @since('1.10')
    @auth.authorize('placement:allocation_candidates:list')
    def on_get(self, req, resp):
        shape = SHAPE[req.context.version]
        parsed = parse(req)
        conf = self.conf.placement
        options = {
            'nested_aware': shape.nested,
            'summary_traits': shape.traits,
            'max_candidates': conf.max_allocation_candidates,
            'randomize': conf.randomize_allocation_candidates,
            'strategy': conf.allocation_candidates_generation_strategy,
        }
        result = self.db.read(_find, parsed, options)
        requested = {name for g in parsed.groups.values()
                     for name in g.resources}
        jsonio.write(req, resp, render(result, shape, requested))
