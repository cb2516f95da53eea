"""Parsing the query string of ``GET /resource_providers`` into filters.

The trait (``required``), aggregate (``member_of``) and capacity
(``resources``) syntaxes are shared with allocation candidates.
"""

from placement.api import jsonio
from placement.objects import resource_provider as rp_obj
from placement.schemas import resource_provider as schema


def list_filters(req):
    """A ``ListFilters`` holding names and uuids as given; ``run_list``
    resolves them to ids inside the read transaction."""
    params = jsonio.query(req, schema.LIST_QUERY[req.context.version])
    filters = rp_obj.ListFilters()
    if 'uuid' in params:
        filters.uuid = rp_obj.normalize_uuid(params['uuid'])
    if 'name' in params:
        filters.name = params['name']
    if 'in_tree' in params:
        filters.in_tree = rp_obj.normalize_uuid(params['in_tree'])
    return filters


def run_list(conn, filters):
    return rp_obj.list_providers(conn, filters)
