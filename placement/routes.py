"""The route table: every URL of the API and the resource serving it."""

from placement.api import resource_providers
from placement.api import root

# (URI template, resource class).  Resource classes take (db, policy)
# except where they need nothing.
ROUTES = [
    ('/', root.Root),
    ('/resource_providers', resource_providers.ResourceProviders),
    ('/resource_providers/{uuid}', resource_providers.ResourceProvider),
]
