"""JSON Schemas for request bodies and query strings, per microversion.

Each module holds the schemas of one resource and a ``Versioned`` table
choosing among them; ``validate`` and ``validate_query`` apply one with
the format checks Placement uses (a ``uuid`` format that accepts the
dashed and the plain hex forms).
"""

import jsonschema

from placement import errors
from placement import uuids

_format_checker = jsonschema.FormatChecker(formats=())


@_format_checker.checks('uuid')
def _is_uuid(value):
    return not isinstance(value, str) or uuids.is_uuid(value)


_validators = {}


def _validator(schema):
    # Schemas are module constants; keep a reference so ids stay unique.
    entry = _validators.get(id(schema))
    if entry is None:
        entry = (jsonschema.Draft4Validator(
            schema, format_checker=_format_checker), schema)
        _validators[id(schema)] = entry
    return entry[0]


def validate(data, schema):
    """Raise 400 'JSON does not validate' when ``data`` breaks ``schema``."""
    try:
        _validator(schema).validate(data)
    except jsonschema.ValidationError as exc:
        raise errors.bad_request('JSON does not validate: %s' % exc)


def validate_query(params, schema):
    """Raise 400 'Invalid query string parameters' for bad ``params``."""
    try:
        _validator(schema).validate(params)
    except jsonschema.ValidationError as exc:
        raise errors.bad_request('Invalid query string parameters: %s' % exc)
