"""Schema for POST /reshaper (1.30; mappings from 1.34, consumer_type
required from 1.38)."""

from placement.microversion import Versioned
from placement.schemas import allocation
from placement.schemas import inventory


def _body(allocations_schema):
    return {
        'type': 'object',
        'properties': {
            'inventories': {
                'type': 'object',
                'patternProperties': {
                    allocation.UUID_KEY: {
                        'type': 'object',
                        'properties': {
                            'resource_provider_generation':
                                {'type': 'integer'},
                            'inventories':
                                inventory.PUT_ALL['properties']['inventories'],
                        },
                        'required': ['resource_provider_generation',
                                     'inventories'],
                        'additionalProperties': False,
                    },
                },
                'additionalProperties': False,
            },
            # Consumer uuid -> that consumer's allocations, as in POST
            # /allocations but allowing no consumers at all.
            'allocations': dict(allocations_schema, minProperties=0),
        },
        'required': ['inventories', 'allocations'],
        'additionalProperties': False,
    }


POST = Versioned({
    '1.30': _body(allocation.POST[(1, 30)]),
    '1.34': _body(allocation.POST[(1, 34)]),
    '1.38': _body(allocation.POST[(1, 38)]),
})
