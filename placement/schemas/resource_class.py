"""Schemas for /resource_classes bodies and the 1.7 PUT path name."""

# Custom class names: CUSTOM_ then upper-case letters, digits and
# underscores, at most 255 characters.  ``(?!\n)`` stops Python's ``$``
# from accepting a trailing newline.
_CUSTOM_NAME = {'type': 'string', 'pattern': '^CUSTOM_[A-Z0-9_]+$(?!\\n)',
                'maxLength': 255}

# POST /resource_classes and PUT /resource_classes/{name} (1.2-1.6).
BODY = {
    'type': 'object',
    'properties': {'name': _CUSTOM_NAME},
    'required': ['name'],
    'additionalProperties': False,
}

# PUT /resource_classes/{name} from 1.7: the name in the path, validated
# as if it were sent as {"name": ...}.
PATH_NAME = BODY
