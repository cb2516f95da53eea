"""``/allocations``, ``/allocations/{consumer_uuid}`` and
``/resource_providers/{uuid}/allocations``."""

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_subresource
from placement.microversion import Versioned, since
from placement.objects import allocation as alloc_obj
from placement.objects import resource_provider as rp_obj
from placement.schemas import allocation as schema

# What GET /allocations/{consumer} shows besides the allocations.
_CONSUMER_FIELDS = Versioned({
    '1.0': (),
    '1.12': ('project_id', 'user_id'),
    '1.28': ('project_id', 'user_id', 'consumer_generation'),
    '1.38': ('project_id', 'user_id', 'consumer_generation',
             'consumer_type'),
})
# Request bodies list allocations before 1.12, key them by provider after.
_LIST_BODY = Versioned({'1.0': True, '1.12': False})
# Consumer generations are checked (and shown for each consumer of a
# provider's allocations) from 1.28.
_CHECK_GENERATION = Versioned({'1.0': False, '1.28': True})
# Consumer types are set from 1.38.
_SETS_TYPE = Versioned({'1.0': False, '1.38': True})


def consumer_uuid_param(value):
    uuid = rp_obj.normalize_uuid(value)
    if uuid is None:
        raise errors.bad_request('Malformed consumer_uuid: %s' % value)
    return uuid


def consumer_request(consumer_uuid, body, version, conf):
    """A ``ConsumerAllocations`` from one consumer's validated body."""
    if _LIST_BODY[version]:
        allocations = {}
        for item in body['allocations']:
            rp_uuid = rp_obj.normalize_uuid(item['resource_provider']['uuid'])
            allocations.setdefault(rp_uuid, {}).update(item['resources'])
    else:
        allocations = {}
        for rp, entry in body['allocations'].items():
            rp_uuid = rp_obj.normalize_uuid(rp)
            if rp_uuid in allocations:
                raise errors.bad_request(
                    'Resource provider %s appears more than once in the '
                    'allocations of consumer %s.' % (rp_uuid, consumer_uuid))
            allocations[rp_uuid] = entry['resources']
    return alloc_obj.ConsumerAllocations(
        consumer_uuid=consumer_uuid,
        project_id=body.get('project_id',
                            conf.placement.incomplete_consumer_project_id),
        user_id=body.get('user_id',
                         conf.placement.incomplete_consumer_user_id),
        allocations=allocations,
        generation=(body['consumer_generation'] if _CHECK_GENERATION[version]
                    else alloc_obj.UNCHECKED),
        consumer_type=body['consumer_type'] if _SETS_TYPE[version] else ...)


def consumer_requests(body, version, conf):
    """One ``ConsumerAllocations`` per consumer of a body keyed by
    consumer uuid (POST /allocations, the reshaper), refusing a consumer
    spelled twice (with and without dashes, or in another case)."""
    requests = {}
    for key, data in body.items():
        uuid = rp_obj.normalize_uuid(key)
        if uuid in requests:
            raise errors.bad_request(
                'Consumer %s appears more than once in the request.' % uuid)
        requests[uuid] = consumer_request(uuid, data, version, conf)
    return list(requests.values())


def write_allocations(db, requests, consumer=None):
    """Run ``alloc_obj.replace`` and word its failures as Placement does:
    an unknown class is named with the ``consumer`` of a PUT, and alone
    for a POST of several."""
    try:
        db.write(alloc_obj.replace, requests, last=True)
    except errors.ResourceClassNotFound as exc:
        if consumer is None:
            raise errors.bad_request('Unable to allocate inventory %s' % exc)
        raise errors.bad_request(
            'Unable to allocate inventory for consumer %s: %s'
            % (consumer, exc))
    except errors.InvalidInventory as exc:
        raise errors.conflict('Unable to allocate inventory: %s' % exc)


class Allocations(api.Resource):
    """POST /allocations: several consumers changed in one transaction."""

    @since('1.13')
    @jsonio.requires_json()
    @auth.authorize('placement:allocations:manage')
    def on_post(self, req, resp):
        version = req.context.version
        body = jsonio.read(req, schema.POST[version])
        requests = consumer_requests(body, version, self.conf)
        write_allocations(self.db, requests)
        jsonio.no_content(resp)


class ConsumerAllocations(api.Resource):
    @auth.authorize('placement:allocations:list')
    def on_get(self, req, resp, consumer_uuid):
        version = req.context.version
        uuid = rp_obj.normalize_uuid(consumer_uuid)
        if uuid is None:
            # No consumer has it: an empty answer, as OpenStack Placement
            # gives (it does not check the uuid here).
            consumer, allocations, rows = None, {}, ()
        else:
            consumer, allocations, rows = self.db.read(
                alloc_obj.for_consumer, uuid)
        body = {'allocations': allocations}
        if consumer is not None:
            values = {'project_id': consumer.project_id,
                      'user_id': consumer.user_id,
                      'consumer_generation': consumer.generation,
                      'consumer_type': consumer.consumer_type or 'unknown'}
            for field in _CONSUMER_FIELDS[version]:
                body[field] = values[field]
        jsonio.write(req, resp, body, modified=jsonio.last_modified(*rows))

    @jsonio.requires_json()
    @auth.authorize('placement:allocations:update')
    def on_put(self, req, resp, consumer_uuid):
        version = req.context.version
        uuid = consumer_uuid_param(consumer_uuid)
        body = jsonio.read(req, schema.PUT[version])
        write_allocations(self.db,
                          [consumer_request(uuid, body, version, self.conf)],
                          uuid)
        jsonio.no_content(resp)

    @auth.authorize('placement:allocations:delete')
    def on_delete(self, req, resp, consumer_uuid):
        uuid = rp_obj.normalize_uuid(consumer_uuid)
        if uuid is None:
            # No consumer has it (OpenStack Placement does not check the
            # uuid here either).
            raise errors.NotFound(
                "No allocations for consumer '%s'" % consumer_uuid)
        self.db.write(alloc_obj.delete_for_consumer, uuid, last=True)
        jsonio.no_content(resp)


class ProviderAllocations(api.Resource):
    """GET /resource_providers/{uuid}/allocations."""

    @auth.authorize('placement:resource_providers:allocations:list')
    def on_get(self, req, resp, uuid):
        def _read(conn):
            provider = provider_subresource.get_provider(conn, uuid)
            return (provider,) + alloc_obj.for_provider(conn, provider.id)
        try:
            provider, allocations, generations, rows = self.db.read(_read)
        except errors.ResourceProviderNotFound as exc:
            raise errors.not_found("Resource provider '%s' not found: %s"
                                   % (uuid, exc))
        body = {consumer: {'resources': resources}
                for consumer, resources in allocations.items()}
        if _CHECK_GENERATION[req.context.version]:
            # (Not in the API reference; OpenStack Placement shows it.)
            for consumer, entry in body.items():
                entry['consumer_generation'] = generations[consumer]
        jsonio.write(req, resp, {
            'resource_provider_generation': provider.generation,
            'allocations': body,
        }, modified=jsonio.last_modified(*rows))
