"""Schemas for inventory bodies of /resource_providers/{uuid}/inventories.

Integer fields are bounded by the 32-bit integer columns they are stored
in, allocation_ratio by a single precision float; anything larger is a
400 here, never a database error.
"""

import copy

from placement.objects import inventory

# A resource class name in an inventory body (whether it exists, and
# oddities such as a trailing newline, are the data layer's business).
CLASS_NAME = {'type': 'string', 'pattern': '^[A-Z0-9_]+$'}


def _integer(minimum):
    return {'type': 'integer', 'minimum': minimum,
            'maximum': inventory.MAX_INT}


_FIELDS = {
    'resource_provider_generation': {'type': 'integer'},
    'total': _integer(1),
    'reserved': _integer(0),
    'min_unit': _integer(1),
    'max_unit': _integer(1),
    'step_size': _integer(1),
    'allocation_ratio': {'type': 'number', 'maximum': inventory.MAX_FLOAT},
}

# PUT /resource_providers/{uuid}/inventories/{resource_class}
PUT_ONE = {
    'type': 'object',
    'properties': copy.deepcopy(_FIELDS),
    'required': ['total', 'resource_provider_generation'],
    'additionalProperties': False,
}

# POST /resource_providers/{uuid}/inventories: a generation may be sent
# but is not required (nor compared).
POST = {
    'type': 'object',
    'properties': dict(copy.deepcopy(_FIELDS), resource_class=CLASS_NAME),
    'required': ['total', 'resource_class'],
    'additionalProperties': False,
}

# One record of PUT /resource_providers/{uuid}/inventories.
_RECORD = {
    'type': 'object',
    'properties': copy.deepcopy(_FIELDS),
    'required': ['total'],
    'additionalProperties': False,
}

# PUT /resource_providers/{uuid}/inventories.  Records under keys that are
# not class names are still validated; the handler then reports the key
# as an unknown resource class.
PUT_ALL = {
    'type': 'object',
    'properties': {
        'resource_provider_generation': {'type': 'integer'},
        'inventories': {
            'type': 'object',
            'patternProperties': {CLASS_NAME['pattern']: _RECORD},
            'additionalProperties': _RECORD,
        },
    },
    'required': ['resource_provider_generation', 'inventories'],
    'additionalProperties': False,
}
