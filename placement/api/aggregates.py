"""``/resource_providers/{uuid}/aggregates`` (from microversion 1.1).

1.1-1.18: GET answers ``{"aggregates": [...]}``; PUT takes a bare list
of aggregate uuids and replaces the provider's aggregates without
touching its generation (existing clients rely on that).

From 1.19 both carry ``resource_provider_generation``: PUT names the
generation the writer saw, and the replacement compares and bumps it.

Aggregate uuids are stored and answered in canonical form; PUT answers
them in the order given, GET sorted.
"""

from placement import api
from placement import errors
from placement import uuids
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_subresource as sub
from placement.microversion import Versioned
from placement.microversion import since
from placement.objects import resource_provider as rp_obj
from placement.schemas import aggregate as schema

# Whether the representation (and so PUT) carries the generation.
_GENERATION = Versioned({'1.1': False, '1.19': True})


def _canonical(values):
    """Canonical uuids in request order, without repeats; 400 for any the
    schema's check let through that is not really one."""
    if uuids.all_canonical(values):
        return list(dict.fromkeys(values))
    canonical = [uuids.normalize(value) for value in values]
    if None in canonical:
        raise errors.bad_request(
            "JSON does not validate: '%s' is not a 'uuid'"
            % values[canonical.index(None)])
    return list(dict.fromkeys(canonical))


def _replace(conn, uuid, uuids, generation):
    """Replace the aggregates; with a ``generation`` (1.19 on) it is
    checked and bumped in the same transaction."""
    if generation is not None:
        return sub.claim_and_set_aggregates(conn, uuid, generation, uuids)
    return sub.set_aggregates_unclaimed(conn, uuid, uuids)


def _render(provider, uuids, version):
    body = {'aggregates': uuids}
    if _GENERATION[version]:
        body['resource_provider_generation'] = provider.generation
    return body


class ProviderAggregates(api.Resource):
    @since('1.1')
    @auth.authorize('placement:resource_providers:aggregates:list')
    def on_get(self, req, resp, uuid):
        provider, uuids = self.db.read(rp_obj.get_with_aggregates, uuid)
        jsonio.write(req, resp, _render(provider, uuids, req.context.version))

    @jsonio.requires_json()
    @since('1.1')
    @auth.authorize('placement:resource_providers:aggregates:update')
    def on_put(self, req, resp, uuid):
        version = req.context.version
        data = sub.read_body(req, self.db, uuid, schema.PUT[version])
        if _GENERATION[version]:
            uuids, generation = (data['aggregates'],
                                 data['resource_provider_generation'])
        else:
            uuids, generation = data, None
        uuids = _canonical(uuids)
        provider = self.db.write(_replace, uuid, uuids, generation)
        jsonio.write(req, resp, _render(provider, uuids, version))
