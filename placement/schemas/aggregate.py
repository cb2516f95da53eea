"""Schemas for PUT /resource_providers/{uuid}/aggregates, per microversion.

1.1-1.18 take a bare list of aggregate uuids; from 1.19 the body is the
same object GET returns, with the provider generation the writer saw.
"""

from placement.microversion import Versioned
from placement.schemas import common

_UUIDS = {
    'type': 'array',
    'items': common.UUID,
    'uniqueItems': True,
}

_PUT_1_19 = {
    'type': 'object',
    'properties': {
        'aggregates': _UUIDS,
        'resource_provider_generation': common.GENERATION,
    },
    'required': ['aggregates', 'resource_provider_generation'],
    'additionalProperties': False,
}

PUT = Versioned({'1.1': _UUIDS, '1.19': _PUT_1_19})
