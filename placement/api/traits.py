"""``/traits``, ``/traits/{name}`` and ``/resource_providers/{uuid}/traits``
(all from microversion 1.6).

Standard traits are read-only; custom ``CUSTOM_*`` traits are created by
PUT and deleted while no provider has them.  A provider's traits are
replaced as a whole under its generation: PUT names the generation it
saw, DELETE removes them all.
"""

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_subresource as sub
from placement.microversion import since
from placement.objects import resource_provider as rp_obj
from placement.objects import trait as trait_obj
from placement.schemas import trait as schema

_NAME_FORM = ('Badly formatted name parameter. Expected name query string '
              'parameter in form: ?name=[in|startswith]:[name1,name2|prefix].'
              ' Got: "%s"')


def _bodiless(req, resp, status, modified=None):
    """A response with no body, with the 1.15 cache headers
    (``modified`` or now)."""
    jsonio.no_content(resp, status)
    jsonio.add_cache_headers(req, resp, modified)


def _name_filter(value):
    """(names, prefix) asked for by the ``name`` parameter.  Operators
    other than ``in`` and ``startswith`` filter nothing."""
    if value is None:
        return None, None
    operator, colon, argument = value.partition(':')
    if not colon:
        raise errors.bad_request(_NAME_FORM % value)
    if operator == 'in':
        return argument.split(','), None
    if operator == 'startswith':
        return None, argument
    return None, None


def _associated_filter(value):
    if value is None:
        return None
    if value.lower() not in ('true', 'false'):
        raise errors.bad_request('The query parameter "associated" only '
                                 'accepts "true" or "false"')
    return value.lower() == 'true'


class Traits(api.Resource):
    @since('1.6')
    @auth.authorize('placement:traits:list')
    def on_get(self, req, resp):
        params = jsonio.query(req, schema.LIST_QUERY)
        names, prefix = _name_filter(params.get('name'))
        associated = _associated_filter(params.get('associated'))
        rows = self.db.read(trait_obj.list_traits, names, prefix, associated)
        jsonio.write(req, resp, {'traits': [r.name for r in rows]},
                     modified=jsonio.last_modified(*rows))


class Trait(api.Resource):
    @since('1.6')
    @auth.authorize('placement:traits:show')
    def on_get(self, req, resp, name):
        row = self.db.read(trait_obj.get_by_name, name)
        _bodiless(req, resp, 204, jsonio.last_modified(row))

    @since('1.6')
    @auth.authorize('placement:traits:update')
    def on_put(self, req, resp, name):
        if not schema.is_valid_custom_name(name):
            raise errors.bad_request(schema.INVALID_CUSTOM_NAME)
        created = self.db.write(trait_obj.ensure_custom, name)
        resp.set_header('Location', api.location(req, '/traits/%s' % name))
        _bodiless(req, resp, 201 if created else 204)

    @since('1.6')
    @auth.authorize('placement:traits:delete')
    def on_delete(self, req, resp, name):
        self.db.write(trait_obj.delete_custom, name)
        jsonio.no_content(resp)


def _clear_traits(conn, uuid):
    provider = sub.get_provider(conn, uuid, for_update=True)
    if trait_obj.ids_for_provider(conn, provider.id):
        provider.set_traits(conn, [])


def _render(provider, names):
    return {'traits': names,
            'resource_provider_generation': provider.generation}


class ProviderTraits(api.Resource):
    @since('1.6')
    @auth.authorize('placement:resource_providers:traits:list')
    def on_get(self, req, resp, uuid):
        provider, names = self.db.read(rp_obj.get_with_traits, uuid)
        jsonio.write(req, resp, _render(provider, names),
                     modified=jsonio.last_modified(provider))

    @since('1.6')
    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:traits:update')
    def on_put(self, req, resp, uuid):
        data = sub.read_body(req, self.db, uuid, schema.PROVIDER_TRAITS)
        provider, names = self.db.write(
            sub.claim_and_set_traits, uuid, data['traits'],
            data['resource_provider_generation'])
        jsonio.write(req, resp, _render(provider, names))

    @since('1.6')
    @auth.authorize('placement:resource_providers:traits:delete')
    def on_delete(self, req, resp, uuid):
        self.db.write(_clear_traits, uuid)
        jsonio.no_content(resp)
