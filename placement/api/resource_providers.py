"""``/resource_providers`` and ``/resource_providers/{uuid}``."""

import uuid as uuidlib

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_query
from placement.api import provider_subresource as sub
from placement.microversion import Versioned
from placement.objects import resource_provider as rp_obj
from placement.schemas import resource_provider as schema

# Link relations in a provider's representation, by microversion.
# (after 'self', in OpenStack Placement's order: each added at the end).
_LINKS = Versioned({
    '1.0': ('inventories', 'usages'),
    '1.1': ('inventories', 'usages', 'aggregates'),
    '1.6': ('inventories', 'usages', 'aggregates', 'traits'),
    '1.11': ('inventories', 'usages', 'aggregates', 'traits', 'allocations'),
})
# Tree fields appear at 1.14.
_TREE_FIELDS = Versioned({'1.0': False, '1.14': True})
# POST answers 201 with no body before 1.20, 200 with the provider after.
_POST_RETURNS_BODY = Versioned({'1.0': False, '1.20': True})
# Moving a provider that has a parent is allowed from 1.37.
_REPARENT = Versioned({'1.0': False, '1.37': True})


def render(provider, version):
    return render_all([provider], version)[0]


def render_all(providers, version):
    """The representations of ``providers`` (version lookups done once,
    not per provider: lists can be long)."""
    rels = _LINKS[version]
    tree = _TREE_FIELDS[version]
    bodies = []
    for provider in providers:
        base = '/resource_providers/%s' % provider.uuid
        links = [{'rel': 'self', 'href': base}]
        links += [{'rel': rel, 'href': '%s/%s' % (base, rel)}
                  for rel in rels]
        body = {'uuid': provider.uuid, 'name': provider.name,
                'generation': provider.generation, 'links': links}
        if tree:
            body['parent_provider_uuid'] = provider.parent_provider_uuid
            body['root_provider_uuid'] = provider.root_provider_uuid
        bodies.append(body)
    return bodies


class ResourceProviders(api.Resource):
    @auth.authorize('placement:resource_providers:list')
    def on_get(self, req, resp):
        version = req.context.version
        filters = provider_query.list_filters(req)
        providers = self.db.read(provider_query.run_list, filters)
        jsonio.write(req, resp, {
            'resource_providers': render_all(providers, version)},
            modified=jsonio.last_modified(*providers))

    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:create')
    def on_post(self, req, resp):
        version = req.context.version
        data = jsonio.read(req, schema.POST[version])
        uuid = rp_obj.normalize_uuid(data.get('uuid')) or \
            str(uuidlib.uuid4())
        name = data['name']
        try:
            provider = self.db.write(rp_obj.create, uuid, name,
                                     data.get('parent_provider_uuid'),
                                     whole_transaction=True)
        except errors.InvalidInput as exc:
            raise errors.bad_request(
                'Unable to create resource provider "%s", %s: %s'
                % (name, uuid, exc))
        resp.set_header('Location', api.location(req, '/resource_providers/%s'
                                                 % uuid))
        if _POST_RETURNS_BODY[version]:
            jsonio.write(req, resp, render(provider, version),
                         modified=jsonio.last_modified(provider))
        else:
            jsonio.no_content(resp, status=201)


class ResourceProvider(api.Resource):
    METHOD_ORDER = ('GET', 'DELETE', 'PUT')

    @auth.authorize('placement:resource_providers:show')
    def on_get(self, req, resp, uuid):
        provider = self.db.read(rp_obj.get_by_uuid, uuid, waiting=True)
        jsonio.write(req, resp, render(provider, req.context.version),
                     modified=jsonio.last_modified(provider))

    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:update')
    def on_put(self, req, resp, uuid):
        version = req.context.version
        data = sub.read_body(req, self.db, uuid, schema.PUT[version])

        def _update(conn):
            provider = rp_obj.get_by_uuid(conn, uuid, for_update=True)
            return rp_obj.update(
                conn, provider, data['name'],
                data.get('parent_provider_uuid', ...),
                allow_reparent=_REPARENT[version])

        try:
            provider = self.db.write(_update)
        except errors.InvalidInput as exc:
            raise errors.bad_request(
                'Unable to save resource provider %s: %s' % (uuid, exc))
        jsonio.write(req, resp, render(provider, version),
                     modified=jsonio.last_modified(provider))

    @auth.authorize('placement:resource_providers:delete')
    def on_delete(self, req, resp, uuid):
        self.db.write(rp_obj.delete, uuid)
        jsonio.no_content(resp)
