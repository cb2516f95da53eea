"""Schemas for /traits and /resource_providers/{uuid}/traits."""

import re

from placement.schemas import common

# A custom trait's name, as accepted by PUT /traits/{name}.
_CUSTOM_NAME_RE = re.compile(common.CUSTOM_NAME_PATTERN)
MAX_NAME_LENGTH = 255

INVALID_CUSTOM_NAME = (
    'The trait is invalid. A valid trait must be no longer than 255 '
    'characters, start with the prefix "CUSTOM_" and use following '
    'characters: "A"-"Z", "0"-"9" and "_"')


def is_valid_custom_name(name):
    return (len(name) <= MAX_NAME_LENGTH
            and _CUSTOM_NAME_RE.fullmatch(name) is not None)


# GET /traits
LIST_QUERY = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string'},
        'associated': {'type': 'string'},
    },
    'additionalProperties': False,
}

# PUT /resource_providers/{uuid}/traits (and its response shape).
PROVIDER_TRAITS = {
    'type': 'object',
    'properties': {
        'traits': {
            'type': 'array',
            'items': {'type': 'string', 'minLength': 1,
                      'maxLength': MAX_NAME_LENGTH},
        },
        'resource_provider_generation': common.GENERATION,
    },
    'required': ['traits', 'resource_provider_generation'],
    'additionalProperties': False,
}
