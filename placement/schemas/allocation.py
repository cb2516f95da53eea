"""Schemas for allocation bodies (PUT/POST /allocations) and GET /usages.

The shapes by microversion: a list of {resource_provider, resources}
before 1.12; a dict keyed by provider uuid from 1.12; project_id and
user_id required from 1.8; consumer_generation from 1.28 (and empty
allocations allowed); mappings accepted from 1.34; consumer_type
required from 1.38.
"""

import copy

from placement.microversion import Versioned
from placement.schemas import common

MAX_AMOUNT = 2147483647

UUID_KEY = ('^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
            '[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')

RESOURCES = {
    'type': 'object',
    'minProperties': 1,
    'patternProperties': {
        '^[0-9A-Z_]+$': {'type': 'integer', 'minimum': 1,
                         'maximum': MAX_AMOUNT},
    },
    'additionalProperties': False,
}

OWNER_ID = {'type': 'string', 'minLength': 1, 'maxLength': 255,
            'pattern': common.STORABLE}
CONSUMER_GENERATION = {'type': ['integer', 'null'], 'minimum': 0,
                       'maximum': MAX_AMOUNT}
CONSUMER_TYPE = {'type': 'string', 'pattern': '^[A-Z0-9_]+$',
                 'minLength': 1, 'maxLength': 255}
MAPPINGS = {
    'type': 'object',
    'minProperties': 1,
    'patternProperties': {
        '^[a-zA-Z0-9_-]{0,64}$': {
            'type': 'array', 'minItems': 1, 'items': common.UUID},
    },
    'additionalProperties': False,
}

_LIST_1_0 = {
    'type': 'object',
    'properties': {
        'allocations': {
            'type': 'array',
            'minItems': 1,
            'items': {
                'type': 'object',
                'properties': {
                    'resource_provider': {
                        'type': 'object',
                        'properties': {'uuid': common.UUID},
                        'required': ['uuid'],
                        'additionalProperties': False,
                    },
                    'resources': RESOURCES,
                },
                'required': ['resource_provider', 'resources'],
                'additionalProperties': False,
            },
        },
    },
    'required': ['allocations'],
    'additionalProperties': False,
}

_LIST_1_8 = copy.deepcopy(_LIST_1_0)
_LIST_1_8['properties'].update(project_id=OWNER_ID, user_id=OWNER_ID)
_LIST_1_8['required'] += ['project_id', 'user_id']

_BY_PROVIDER = {
    'type': 'object',
    'minProperties': 1,
    'patternProperties': {
        UUID_KEY: {
            'type': 'object',
            'properties': {
                'generation': {'type': 'integer'},
                'resources': RESOURCES,
            },
            'required': ['resources'],
            'additionalProperties': False,
        },
    },
    'additionalProperties': False,
}

_DICT_1_12 = {
    'type': 'object',
    'properties': {
        'allocations': _BY_PROVIDER,
        'project_id': OWNER_ID,
        'user_id': OWNER_ID,
    },
    'required': ['allocations', 'project_id', 'user_id'],
    'additionalProperties': False,
}


def _derive(base, empty_allowed=False, required=(), **properties):
    schema = copy.deepcopy(base)
    if empty_allowed:
        schema['properties']['allocations']['minProperties'] = 0
    schema['properties'].update(properties)
    schema['required'] = schema['required'] + list(required)
    return schema


_DICT_1_28 = _derive(_DICT_1_12, empty_allowed=True,
                     required=['consumer_generation'],
                     consumer_generation=CONSUMER_GENERATION)
_DICT_1_34 = _derive(_DICT_1_28, mappings=MAPPINGS)
_DICT_1_38 = _derive(_DICT_1_34, required=['consumer_type'],
                     consumer_type=CONSUMER_TYPE)

PUT = Versioned({'1.0': _LIST_1_0, '1.8': _LIST_1_8, '1.12': _DICT_1_12,
                 '1.28': _DICT_1_28, '1.34': _DICT_1_34,
                 '1.38': _DICT_1_38})


def _many(per_consumer):
    return {
        'type': 'object',
        'minProperties': 1,
        'patternProperties': {UUID_KEY: per_consumer},
        'additionalProperties': False,
    }


# POST /allocations: consumer uuid -> the PUT body of that consumer, where
# an empty allocations dict clears the consumer.
POST = Versioned({
    '1.13': _many(_derive(_DICT_1_12, empty_allowed=True)),
    '1.28': _many(_DICT_1_28),
    '1.34': _many(_DICT_1_34),
    '1.38': _many(_DICT_1_38),
})

_USAGES_1_9 = {
    'type': 'object',
    'properties': {'project_id': OWNER_ID, 'user_id': OWNER_ID},
    'required': ['project_id'],
    'additionalProperties': False,
}
_USAGES_1_38 = copy.deepcopy(_USAGES_1_9)
_USAGES_1_38['properties']['consumer_type'] = {
    'type': 'string', 'minLength': 1, 'maxLength': 255,
    'pattern': common.STORABLE}

USAGES_QUERY = Versioned({'1.9': _USAGES_1_9, '1.38': _USAGES_1_38})
