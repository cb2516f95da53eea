"""``/resource_providers/{uuid}/usages`` and ``/usages``."""

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_subresource
from placement.microversion import Versioned, since
from placement.objects import usage as usage_obj
from placement.schemas import allocation as schema

# From 1.38 project usages are grouped by consumer type.
_BY_CONSUMER_TYPE = Versioned({'1.9': False, '1.38': True})


class ProviderUsages(api.Resource):
    @auth.authorize('placement:resource_providers:usages')
    def on_get(self, req, resp, uuid):
        def _read(conn):
            provider = provider_subresource.get_provider(conn, uuid)
            return provider, usage_obj.for_provider(conn, provider.id)
        try:
            provider, usages = self.db.read(_read)
        except errors.ResourceProviderNotFound as exc:
            raise errors.not_found('No resource provider with uuid %s '
                                   'found: %s' % (uuid, exc))
        jsonio.write(req, resp, {
            'resource_provider_generation': provider.generation,
            'usages': usages})


class Usages(api.Resource):
    @since('1.9')
    def on_get(self, req, resp):
        version = req.context.version
        # As OpenStack Placement does: the policy before the query's
        # checks, on the project asked for (if any).
        params = jsonio.query(req)
        self.policy.authorize(req.context.auth, 'placement:usages',
                              {'project_id': params.get('project_id')})
        jsonio.validate_query(req, params, schema.USAGES_QUERY[version])
        if _BY_CONSUMER_TYPE[version]:
            usages = self.db.read(usage_obj.for_project_by_type,
                                  params['project_id'], params.get('user_id'),
                                  params.get('consumer_type'))
        else:
            usages = self.db.read(usage_obj.for_project,
                                  params['project_id'], params.get('user_id'))
        jsonio.write(req, resp, {'usages': usages})
