"""Reshaping: moving inventories and allocations of a provider tree in
one transaction.

Inventories with allocations cannot be removed, and allocations need
inventory to land on, so the work is done in three steps, each with the
usual rules and generation bumps:

1. give each provider the union of its current and its requested
   inventories (requested values win), so nothing in use disappears yet
   (a provider whose requested inventory is empty is left as it is);
2. replace the consumers' allocations (capacity checked);
3. set each provider's inventory to exactly what was requested, which
   now fails only if something still uses a removed inventory.

Any failure rolls all of it back.
"""

from placement import errors
from placement.objects import allocation as alloc_obj
from placement.objects import inventory as inv_obj
from placement.objects import resource_provider as rp_obj


def _locked_providers(conn, inventories):
    """{uuid: provider} of the providers in ``inventories``, their rows
    locked in uuid order.  A missing or stale one is reported in the
    order the request lists them, as OpenStack Placement checks them."""
    providers = {uuid: rp_obj.find_by_uuid(conn, uuid, for_update=True)
                 for uuid in sorted(inventories)}
    for uuid, (expected, _wanted) in inventories.items():
        provider = providers[uuid]
        if provider is None:
            raise errors.ResourceProviderNotFound(
                'No resource provider with uuid %s found' % uuid)
        if provider.generation != expected:
            raise errors.ConcurrentUpdateDetected(
                'resource provider generation conflict for provider %s: '
                'actual: %s, given: %s' % (uuid, provider.generation,
                                           expected))
    return providers


def reshape(conn, inventories, requests):
    """``inventories`` maps provider uuid to (expected generation, list of
    ``Inventory``); ``requests`` is a list of ``ConsumerAllocations``."""
    providers = _locked_providers(conn, inventories)
    for uuid, provider in providers.items():
        wanted = inventories[uuid][1]
        if not wanted:
            # The union would be the current inventory: step 1 leaves the
            # provider (and its generation) as it is, as in OpenStack
            # Placement.
            continue
        names = {inv.resource_class for inv in wanted}
        union = wanted + [inv for inv in inv_obj.list_for_provider(
            conn, provider) if inv.resource_class not in names]
        inv_obj.replace_all(conn, provider, union)
    if requests:
        alloc_obj.replace(conn, requests)
    for uuid, provider in providers.items():
        # Allocations may have bumped the generation meanwhile.
        provider.generation = rp_obj.get_by_uuid(conn, uuid).generation
        inv_obj.replace_all(conn, provider, inventories[uuid][1])
