"""``POST /reshaper`` (1.30): inventories and allocations of a provider
tree changed in one transaction."""

from placement import api
from placement import errors
from placement.api import allocations as allocations_api
from placement.api import auth
from placement.api import jsonio
from placement.microversion import since
from placement.objects import inventory as inv_obj
from placement.objects import reshape as reshape_obj
from placement.objects import resource_provider as rp_obj
from placement.schemas import reshaper as schema


class Reshaper(api.Resource):
    @since('1.30')
    @jsonio.requires_json()
    @auth.authorize('placement:reshaper:reshape')
    def on_post(self, req, resp):
        version = req.context.version
        body = jsonio.read(req, schema.POST[version])
        inventories = {}
        for key, data in body['inventories'].items():
            uuid = rp_obj.normalize_uuid(key)
            if uuid in inventories:
                raise errors.bad_request(
                    'Resource provider %s appears more than once in the '
                    'inventories.' % uuid)
            wanted = [inv_obj.Inventory.from_request(name, fields)
                      for name, fields in data['inventories'].items()]
            try:
                # Reshaping exists from 1.30, after reserved == total
                # became acceptable (1.26).
                inv_obj.check_capacity(uuid, wanted,
                                       reserved_may_equal_total=True)
            except errors.InvalidInventoryCapacity as exc:
                raise errors.bad_request('Unable to reshape: %s' % exc)
            inventories[uuid] = (data['resource_provider_generation'],
                                 wanted)
        requests = allocations_api.consumer_requests(
            body['allocations'], version, self.conf)
        try:
            self.db.write(reshape_obj.reshape, inventories, requests)
        except errors.ResourceProviderNotFound as exc:
            raise errors.bad_request(str(exc), errors.PROVIDER_NOT_FOUND)
        except errors.ResourceClassNotFound as exc:
            raise errors.bad_request('Unable to reshape: %s' % exc)
        except errors.InvalidInventory as exc:
            raise errors.conflict('Unable to allocate inventory: %s' % exc)
        except errors.InventoryInUse as exc:
            raise errors.conflict('update conflict: %s' % exc,
                                  errors.INVENTORY_INUSE)
        jsonio.no_content(resp)
