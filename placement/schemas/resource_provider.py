"""Schemas for /resource_providers bodies and query strings."""

import copy

from placement.microversion import Versioned
from placement.schemas import common

_NAME = {'type': 'string', 'maxLength': 200, 'pattern': common.STORABLE}

_POST_1_0 = {
    'type': 'object',
    'properties': {'name': _NAME, 'uuid': common.UUID},
    'required': ['name'],
    'additionalProperties': False,
}
_POST_1_14 = copy.deepcopy(_POST_1_0)
_POST_1_14['properties']['parent_provider_uuid'] = {
    'anyOf': [common.UUID, {'type': 'null'}]}

_PUT_1_0 = {
    'type': 'object',
    'properties': {'name': _NAME},
    'required': ['name'],
    'additionalProperties': False,
}
_PUT_1_14 = copy.deepcopy(_PUT_1_0)
_PUT_1_14['properties']['parent_provider_uuid'] = {
    'anyOf': [common.UUID, {'type': 'null'}]}

POST = Versioned({'1.0': _POST_1_0, '1.14': _POST_1_14})
PUT = Versioned({'1.0': _PUT_1_0, '1.14': _PUT_1_14})

_QUERY_1_0 = {
    'type': 'object',
    'properties': {
        # No provider name holds a NUL (PostgreSQL cannot even compare one).
        'name': {'type': 'string', 'pattern': '^[^\x00]*$'},
        'uuid': common.UUID,
    },
    'additionalProperties': False,
}


def _query_with(base, **extra):
    schema = copy.deepcopy(base)
    schema['properties'].update(extra)
    return schema


_QUERY_1_3 = _query_with(_QUERY_1_0, member_of={'type': 'string'})
_QUERY_1_4 = _query_with(_QUERY_1_3, resources={'type': 'string'})
_QUERY_1_14 = _query_with(_QUERY_1_4, in_tree=common.UUID)
_QUERY_1_18 = _query_with(_QUERY_1_14, required={'type': 'string'})

LIST_QUERY = Versioned({'1.0': _QUERY_1_0, '1.3': _QUERY_1_3,
                        '1.4': _QUERY_1_4, '1.14': _QUERY_1_14,
                        '1.18': _QUERY_1_18})
