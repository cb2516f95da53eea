"""``/resource_providers/{uuid}/inventories`` (the whole set) and
``/resource_providers/{uuid}/inventories/{resource_class}`` (one record).

Writes lock the provider row, compare the generation the client sent
(PUT) and check capacity, then let ``placement.objects.inventory`` change
the records and bump the generation, all in one transaction.  The
checks run in OpenStack Placement's order, so a request with several
problems gets the same answer.  A provider's first inventory (PUT of
the whole set at generation 0) that passes them is written by
``placement.objects.first_inventory`` where the database allows.
"""

from placement import api
from placement import errors
from placement.api import auth
from placement.api import jsonio
from placement.api import provider_subresource as sub
from placement.microversion import Versioned
from placement.microversion import since
from placement.objects import claim
from placement.objects import first_inventory
from placement.objects import inventory as inv_obj
from placement.objects import resource_provider as rp_obj
from placement.schemas import inventory as schema

# From 1.26 an inventory may reserve all of its total (zero capacity).
_RESERVED_MAY_EQUAL_TOTAL = Versioned({'1.0': False, '1.26': True})


def render(inventory):
    return {name: getattr(inventory, name) for name in inv_obj.FIELDS}


def render_with_generation(inventory, provider):
    body = render(inventory)
    body['resource_provider_generation'] = provider.generation
    return body


def render_all(inventories, provider):
    return {'resource_provider_generation': provider.generation,
            'inventories': {inv.resource_class: render(inv)
                            for inv in inventories}}


def _claim(conn, uuid, generation, linked=None):
    """The provider at ``uuid``, locked, with ``generation`` checked and
    claimed (``claim.claim``, which see for ``linked``)."""
    sub.check_uuid(uuid)
    return claim.claim(conn, uuid, generation,
                       'resource provider generation conflict', linked)


def _check_capacity(req, uuid, inventories, action):
    try:
        inv_obj.check_capacity(
            uuid, inventories, _RESERVED_MAY_EQUAL_TOTAL[req.context.version])
    except errors.InvalidInventoryCapacity as exc:
        raise errors.bad_request(
            'Unable to %s inventory for resource provider %s: %s'
            % (action, uuid, exc))


def _location(req, uuid, class_name):
    return api.location(req, '/resource_providers/%s/inventories/%s'
                        % (uuid, class_name))


class Inventories(api.Resource):
    """The provider's whole inventory."""

    @auth.authorize('placement:resource_providers:inventories:list')
    def on_get(self, req, resp, uuid):
        def _read(conn):
            provider = sub.get_provider(conn, uuid)
            return provider, inv_obj.list_for_provider(conn, provider)

        provider, inventories = self.db.read(_read)
        jsonio.write(req, resp, render_all(inventories, provider),
                     modified=jsonio.last_modified(*inventories))

    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:inventories:update')
    def on_put(self, req, resp, uuid):
        data = sub.read_body(req, self.db, uuid, schema.PUT_ALL)
        wanted = [inv_obj.Inventory.from_request(name, fields)
                  for name, fields in data['inventories'].items()]

        first = self._first(req, uuid, data, wanted)

        def _replace(conn):
            if first and first_inventory.applies(conn):
                ids = first_inventory.class_ids(conn, wanted)
                if ids is not None:
                    return first_inventory.write(
                        conn, uuid, wanted, ids,
                        'resource provider generation conflict')
            provider, current = _claim(
                conn, uuid, data['resource_provider_generation'],
                linked='inventories')
            _check_capacity(req, uuid, wanted, 'update')
            return provider, inv_obj.replace_all(
                conn, provider, wanted, last=True, current=current)

        try:
            provider, inventories = self.db.write(_replace)
        except errors.ResourceClassNotFound as exc:
            raise errors.bad_request(
                'Unknown resource class in inventory for resource provider '
                '%s: %s' % (uuid, exc))
        except errors.InventoryInUse as exc:
            raise errors.conflict('update conflict: %s' % exc,
                                  errors.INVENTORY_INUSE)
        jsonio.write(req, resp, render_all(inventories, provider),
                     modified=jsonio.last_modified(*inventories))

    @staticmethod
    def _first(req, uuid, data, wanted):
        """True for a provider's first inventory (generation 0) that
        passes the checks a claim would be followed by, so that
        ``first_inventory`` may write it: any other is written the usual
        way, which answers its problems in OpenStack Placement's order."""
        if data['resource_provider_generation'] != 0 or not wanted or \
                not rp_obj.may_exist(uuid):
            return False
        try:
            _check_capacity(req, uuid, wanted, 'update')
        except errors.HTTPError:
            return False
        return True

    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:inventories:create')
    def on_post(self, req, resp, uuid):
        data = sub.read_body(req, self.db, uuid, schema.POST)
        class_name = data['resource_class']
        wanted = inv_obj.Inventory.from_request(class_name, data)

        def _add(conn):
            provider = sub.get_provider(conn, uuid, for_update=True)
            _check_capacity(req, uuid, [wanted], 'create')
            return provider, inv_obj.add(conn, provider, wanted)

        try:
            provider, inventory = self.db.write(_add)
        except errors.ResourceClassNotFound as exc:
            raise errors.bad_request(
                'Unable to create inventory for resource provider %s: %s'
                % (uuid, exc))
        except errors.InventoryExists as exc:
            raise errors.conflict('Update conflict: %s' % exc,
                                  errors.CONCURRENT_UPDATE)
        resp.set_header('Location', _location(req, uuid, class_name))
        jsonio.write(req, resp, render_with_generation(inventory, provider),
                     status=201, modified=jsonio.last_modified(inventory))

    @since('1.5', status=405)
    @auth.authorize('placement:resource_providers:inventories:delete')
    def on_delete(self, req, resp, uuid):
        def _delete_all(conn):
            provider = sub.get_provider(conn, uuid, for_update=True)
            inv_obj.replace_all(conn, provider, [], last=True)

        self.db.write(_delete_all)
        jsonio.no_content(resp)


class Inventory(api.Resource):
    """One inventory record, named by its resource class."""

    @auth.authorize('placement:resource_providers:inventories:show')
    def on_get(self, req, resp, uuid, resource_class):
        def _read(conn):
            provider = sub.get_provider(conn, uuid)
            return provider, inv_obj.find(conn, provider, resource_class)

        provider, inventory = self.db.read(_read)
        if inventory is None:
            raise errors.not_found('No inventory of class %s for %s'
                                   % (resource_class, uuid))
        jsonio.write(req, resp, render_with_generation(inventory, provider),
                     modified=jsonio.last_modified(inventory))

    @jsonio.requires_json()
    @auth.authorize('placement:resource_providers:inventories:update')
    def on_put(self, req, resp, uuid, resource_class):
        data = sub.read_body(req, self.db, uuid, schema.PUT_ONE)
        wanted = inv_obj.Inventory.from_request(resource_class, data)

        def _update(conn):
            provider = _claim(conn, uuid,
                              data['resource_provider_generation'])
            _check_capacity(req, uuid, [wanted], 'update')
            return provider, inv_obj.update(conn, provider, wanted)

        try:
            provider, inventory = self.db.write(_update)
        except errors.InventoryNotFound as exc:
            raise errors.bad_request(
                'No inventory record with resource class for resource '
                'provider %s: %s' % (uuid, exc))
        jsonio.write(req, resp, render_with_generation(inventory, provider),
                     modified=jsonio.last_modified(inventory))

    @auth.authorize('placement:resource_providers:inventories:delete')
    def on_delete(self, req, resp, uuid, resource_class):
        def _delete(conn):
            provider = sub.get_provider(conn, uuid, for_update=True)
            inv_obj.delete(conn, provider, resource_class)

        try:
            self.db.write(_delete)
        except errors.ResourceClassNotFound as exc:
            raise errors.not_found('No inventory of class %s found for '
                                   'delete: %s' % (resource_class, exc))
        except errors.InventoryNotFound:
            # (OpenStack Placement says it twice.)
            raise errors.not_found('No inventory of class {0} found for '
                                   'delete: No inventory of class {0} found '
                                   'for delete'.format(resource_class))
        except errors.InventoryInUse as exc:
            # OpenStack Placement answers this one with the concurrent
            # update code (a PUT that removes the class: inventory.inuse).
            raise errors.conflict('Unable to delete inventory of class %s: %s'
                                  % (resource_class, exc),
                                  errors.CONCURRENT_UPDATE)
        jsonio.no_content(resp)
