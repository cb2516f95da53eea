"""The route table: every URL of the API and the resource serving it."""

from placement.api import aggregates
from placement.api import allocation_candidates
from placement.api import allocations
from placement.api import inventories
from placement.api import reshaper
from placement.api import resource_classes
from placement.api import resource_providers
from placement.api import root
from placement.api import traits
from placement.api import usages

# (URI template, resource class); every class is a placement.api.Resource.
ROUTES = [
    ('/', root.Root),
    ('/resource_providers', resource_providers.ResourceProviders),
    ('/resource_providers/{uuid}', resource_providers.ResourceProvider),
    ('/resource_providers/{uuid}/aggregates',
     aggregates.ProviderAggregates),
    ('/resource_providers/{uuid}/traits', traits.ProviderTraits),
    ('/traits', traits.Traits),
    ('/traits/{name}', traits.Trait),
    ('/resource_providers/{uuid}/inventories', inventories.Inventories),
    ('/resource_providers/{uuid}/inventories/{resource_class}',
     inventories.Inventory),
    ('/resource_classes', resource_classes.ResourceClasses),
    ('/resource_classes/{name}', resource_classes.ResourceClass),
    ('/resource_providers/{uuid}/allocations',
     allocations.ProviderAllocations),
    ('/resource_providers/{uuid}/usages', usages.ProviderUsages),
    ('/allocations', allocations.Allocations),
    ('/allocations/{consumer_uuid}', allocations.ConsumerAllocations),
    ('/usages', usages.Usages),
    ('/reshaper', reshaper.Reshaper),
    ('/allocation_candidates', allocation_candidates.AllocationCandidates),
]
