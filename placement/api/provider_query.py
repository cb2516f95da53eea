"""Parsing the query string of ``GET /resource_providers`` into filters.

The aggregate (``member_of``), trait (``required``) and capacity
(``resources``) syntaxes are shared with allocation candidates, whose
request groups carry suffixed copies of them (``member_of1``...):

- ``parse_member_of``, ``parse_required`` and ``parse_resources`` check
  one parameter's values against the ``Syntax`` a microversion allows
  and return names and uuids;
- ``resolve_aggregates``, ``resolve_traits`` and ``resolve_resources``
  turn those into ids inside the read transaction, answering 400 for
  unknown traits and resource classes.

Error messages are OpenStack Placement's, which clients match on.
"""

import dataclasses
import itertools

from placement import errors
from placement import uuids
from placement.api import jsonio
from placement.microversion import Versioned
from placement.objects import aggregate as aggregate_obj
from placement.objects import resource_class as rc_obj
from placement.objects import resource_provider as rp_obj
from placement.objects import trait as trait_obj
from placement.schemas import resource_provider as schema


@dataclasses.dataclass(frozen=True)
class Syntax:
    """What the ``member_of`` and ``required`` syntaxes allow."""
    # Several member_of parameters, ANDed (1.24).
    multiple_member_of: bool = False
    # '!uuid' and '!in:uuid,...' in member_of (1.32).
    forbidden_aggregates: bool = False
    # '!TRAIT' in required (1.22).
    forbidden_traits: bool = False
    # 'in:T1,T2' in required, and several required parameters ANDed
    # (1.39); before that the last required parameter wins.
    any_traits: bool = False


SYNTAX = Versioned({
    '1.0': Syntax(),
    '1.22': Syntax(forbidden_traits=True),
    '1.24': Syntax(multiple_member_of=True, forbidden_traits=True),
    '1.32': Syntax(multiple_member_of=True, forbidden_aggregates=True,
                   forbidden_traits=True),
    '1.39': Syntax(multiple_member_of=True, forbidden_aggregates=True,
                   forbidden_traits=True, any_traits=True),
})

_RESOURCES_FORM = ('Badly formed resources parameter. Expected resources '
                   'query string parameter in form: '
                   '?resources=VCPU:2,MEMORY_MB:1024. Got: %s.')
_ANY_TRAITS_FORM = 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC'


def _bad(detail):
    return errors.bad_request(detail)


canonical_uuid = uuids.normalize


# -- parsing -----------------------------------------------------------

def parse_member_of(values, syntax, param='member_of'):
    """(groups, forbidden) from the values of a member_of parameter.

    Each group is a list of aggregate uuids a provider must be in at least
    one of; ``forbidden`` lists uuids it must be in none of.
    """
    if len(values) > 1 and not syntax.multiple_member_of:
        raise _bad('Multiple member_of parameters are not supported')
    groups, forbidden = [], []
    for value in values:
        negated = value.startswith('!')
        body = value[1:] if negated else value
        if body.startswith('in:'):
            items = body[3:].split(',')
        elif ',' in body:
            raise _bad("Multiple values for '%s' must be prefixed with the "
                       "'in:' or '!in:' keyword using the valid "
                       "microversion. Got: %s" % (param, value))
        else:
            items = [body]
        uuids = []
        for item in items:
            canonical = canonical_uuid(item)
            if canonical is None:
                raise _bad("Invalid query string parameters: Expected '%s' "
                           "parameter to contain valid UUID(s). Got: %s"
                           % (param, item))
            uuids.append(canonical)
        if not negated:
            groups.append(uuids)
        elif syntax.forbidden_aggregates:
            forbidden.extend(uuids)
        else:
            raise _bad('Forbidden member_of parameters are not supported in '
                       'the specified microversion')
    return groups, forbidden


def _any_traits(value, param):
    names = [name.strip() for name in value[3:].split(',')]
    if not all(names):
        raise _bad("Invalid query string parameters: Expected '%s' "
                   "parameter value of the form: %s. Got an empty trait "
                   "in: %s" % (param, _ANY_TRAITS_FORM, value))
    if any(name.startswith('!') for name in names):
        raise _bad("Invalid query string parameters: The format '%s' does "
                   "not support forbidden traits. Got: %s"
                   % (_ANY_TRAITS_FORM, value))
    return names


def parse_required(values, syntax, param='required'):
    """(groups, forbidden) from the values of a required parameter.

    Each group is a list of trait names a provider must have at least one
    of (a plain trait is a group of one); ``forbidden`` lists names it
    must have none of.
    """
    if not syntax.any_traits:
        values = values[-1:]
    form = ('HW_CPU_X86_VMX,!CUSTOM_MAGIC' if syntax.forbidden_traits
            else 'HW_CPU_X86_VMX,CUSTOM_MAGIC')
    groups, forbidden = [], []
    for value in values:
        if value.startswith('in:'):
            if not syntax.any_traits:
                raise _bad("Invalid query string parameters: The format "
                           "'%s' only supported since microversion 1.39. "
                           "Got: %s" % (_ANY_TRAITS_FORM, value))
            groups.append(_any_traits(value, param))
            continue
        names = [name.strip() for name in value.split(',')]
        if not all(name.lstrip('!') for name in names):
            raise _bad("Invalid query string parameters: Expected '%s' "
                       "parameter value of the form: %s. Got an empty "
                       "trait in: %s" % (param, form, value))
        for name in names:
            if not name.startswith('!'):
                groups.append([name])
            elif syntax.forbidden_traits:
                forbidden.append(name.lstrip('!'))
            else:
                raise _bad("Invalid query string parameters: Expected '%s' "
                           "parameter value of the form: %s. Got: %s"
                           % (param, form, value))
    return groups, forbidden


def parse_resources(value):
    """{resource class name: amount} from a resources parameter."""
    if value.strip() == '':
        raise _bad(_RESOURCES_FORM % 'empty string')
    amounts = {}
    for item in value.split(','):
        parts = item.split(':')
        if len(parts) != 2:
            raise _bad(_RESOURCES_FORM % item)
        name, amount = parts
        try:
            amount = int(amount)
        except ValueError:
            raise _bad('Requested resource %s expected positive integer '
                       'amount. Got: %s.' % (name, amount))
        if amount < 1:
            raise _bad('Requested resource %s requires amount >= 1. '
                       'Got: %d.' % (name, amount))
        amounts[name] = amount
    return amounts


# -- resolving (inside a transaction) ---------------------------------

def resolve_aggregates(conn, groups, forbidden, known=None):
    """Aggregate uuids to ids.  Unknown aggregates have no members: they
    drop out (a group left empty matches no provider).  ``known`` is a
    {uuid: id} map read beforehand (several parameters, one query)."""
    if known is None:
        known = aggregate_obj.ids_by_uuid(
            conn, itertools.chain(forbidden, *groups))
    return ([[known[u] for u in group if u in known] for group in groups],
            [known[u] for u in forbidden if u in known])


def resolve_traits(conn, groups, forbidden, found=None, named_in=None):
    """Trait names to ids; 400 naming the first unknown trait (and, with
    ``named_in``, the query parameter: OpenStack Placement names it for
    the provider list).  ``found`` is a {name: id} map read beforehand
    (several parameters, one query)."""
    names = list(itertools.chain(itertools.chain(*groups), forbidden))
    if found is None:
        found = trait_obj.find_ids(conn, names)
    for name in names:
        if name not in found:
            message = 'No such trait(s): %s.' % name
            if named_in is not None:
                message = 'Invalid trait(s) in "%s" parameter: %s' % (
                    named_in, message)
            raise _bad(message)
    return ([[found[n] for n in group] for group in groups],
            [found[n] for n in forbidden])


def resolve_class_ids(conn, names):
    """{resource class name: id}; 400 for an unknown class."""
    try:
        return rc_obj.ids_for_names(conn, names)
    except errors.ResourceClassNotFound as exc:
        raise _bad('Invalid resource class in resources parameter: %s'
                   % exc)


def resolve_resources(conn, amounts):
    """{resource class id: amount}; 400 for an unknown class."""
    ids = resolve_class_ids(conn, amounts)
    return {ids[name]: amount for name, amount in amounts.items()}


# -- GET /resource_providers ------------------------------------------

@dataclasses.dataclass
class ListQuery:
    """A parsed provider list query: names and uuids, not yet ids."""
    uuid: str | None = None
    name: str | None = None
    in_tree: str | None = None
    member_of: tuple = ((), ())
    required: tuple = ((), ())
    resources: dict = dataclasses.field(default_factory=dict)


def list_filters(req):
    """The ``ListQuery`` of a provider list request; ``run_list``
    resolves it to a ``ListFilters`` inside the read transaction."""
    version = req.context.version
    params = jsonio.query(req, schema.LIST_QUERY[version])
    syntax = SYNTAX[version]
    query = ListQuery()
    if 'uuid' in params:
        query.uuid = rp_obj.normalize_uuid(params['uuid'])
    if params.get('name'):
        # (An empty name filters nothing, as in OpenStack Placement.)
        query.name = params['name']
    if 'in_tree' in params:
        query.in_tree = rp_obj.normalize_uuid(params['in_tree'])
    if 'member_of' in params:
        query.member_of = parse_member_of(
            jsonio.query_all(req, 'member_of'), syntax)
    if 'required' in params:
        query.required = parse_required(
            jsonio.query_all(req, 'required'), syntax)
    if 'resources' in params:
        query.resources = parse_resources(params['resources'])
    return query


def run_list(conn, query):
    filters = rp_obj.ListFilters(uuid=query.uuid, name=query.name,
                                 in_tree=query.in_tree)
    filters.member_of, filters.forbidden_aggregates = resolve_aggregates(
        conn, *query.member_of)
    filters.required_traits, filters.forbidden_traits = resolve_traits(
        conn, *query.required, named_in='required')
    filters.resources = resolve_resources(conn, query.resources)
    return rp_obj.list_providers(conn, filters)
