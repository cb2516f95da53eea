"""JSON Schemas for request bodies and query strings, per microversion.

Each module holds the schemas of one resource and a ``Versioned`` table
choosing among them; ``validate`` and ``validate_query`` apply one with
the format checks Placement uses (a ``uuid`` format that accepts the
dashed and the plain hex forms).

jsonschema is the reference and writes every error message: Draft 4's
keywords, with an integer being any number without a fractional part
(8.0 too), as in the newest draft, which OpenStack Placement's checks
apply.  A document it would accept is first checked by the same schema
compiled to Python by fastjsonschema, which is tens of times faster on
long lists; only when that check fails does jsonschema look at the
document.  ``integers`` makes the integral numbers where a schema wants
an integer Python ints.
tests/test_schemas.py holds the two to agreeing on every schema here.
"""

import re

import fastjsonschema
import jsonschema

from placement import errors
from placement import uuids

_format_checker = jsonschema.FormatChecker(formats=())


@_format_checker.checks('uuid')
def _is_uuid(value):
    return not isinstance(value, str) or uuids.is_uuid(value)


def _is_integer(checker, instance):
    return (isinstance(instance, int) and not isinstance(instance, bool)
            or isinstance(instance, float) and instance.is_integer())


_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator,
    type_checker=jsonschema.Draft4Validator.TYPE_CHECKER.redefine(
        'integer', _is_integer))

_validators = {}


def _arrays_apart(schema, path=()):
    """(``schema`` with some checks of its arrays of strings taken out,
    the paths of the arrays that lost uniqueItems, the paths of those
    that lost their items' uuid format).  Only arrays reached through
    ``properties`` (or the schema itself) are taken apart: set() tells
    their repeats, and ``uuids.all_canonical`` their uuids, much faster
    than the compiled check's item-by-item work."""
    if not isinstance(schema, dict):
        return schema, [], []
    schema, unique, uuid_items = dict(schema), [], []
    items = schema.get('items')
    if (schema.get('type') == 'array' and isinstance(items, dict)
            and items.get('type') == 'string'):
        if schema.get('uniqueItems'):
            del schema['uniqueItems']
            unique.append(path)
        if items.get('format') == 'uuid':
            schema['items'] = {k: v for k, v in items.items()
                               if k != 'format'}
            uuid_items.append(path)
    if isinstance(schema.get('properties'), dict):
        schema['properties'] = dict(schema['properties'])
        for name, sub in schema['properties'].items():
            sub, found_unique, found_uuids = _arrays_apart(sub, path + (name,))
            schema['properties'][name] = sub
            unique.extend(found_unique)
            uuid_items.extend(found_uuids)
    return schema, unique, uuid_items


def _at(data, path):
    for name in path:
        data = data.get(name) if isinstance(data, dict) else None
    return data


def _compiled(schema):
    """A compiled check of ``schema`` (None when it cannot be compiled):
    a function of a document that raises JsonSchemaException."""
    apart, unique_paths, uuid_paths = _arrays_apart(schema)
    try:
        # (The compiled check asks formats about strings only.)
        check = fastjsonschema.compile(apart,
                                       formats={'uuid': uuids.is_uuid})
    except fastjsonschema.JsonSchemaDefinitionException:
        return None
    if not unique_paths and not uuid_paths:
        return check

    def check_arrays_too(data):
        check(data)
        # The compiled check has seen that these are lists of strings.
        for path in unique_paths:
            value = _at(data, path)
            if value is not None and len(set(value)) != len(value):
                raise fastjsonschema.JsonSchemaException('repeated items')
        for path in uuid_paths:
            value = _at(data, path)
            if value is not None and not uuids.all_canonical(value) \
                    and not all(map(uuids.is_uuid, value)):
                raise fastjsonschema.JsonSchemaException('not a uuid')
    return check_arrays_too


def _validators_for(schema):
    """(compiled check or None, jsonschema validator) of ``schema``."""
    # Schemas are module constants; keep a reference so ids stay unique.
    entry = _validators.get(id(schema))
    if entry is None:
        entry = (_compiled(schema), _Validator(
            schema, format_checker=_format_checker), schema)
        _validators[id(schema)] = entry
    return entry[:2]


def _check(data, schema):
    """The jsonschema error ``data`` has against ``schema``, or None."""
    fast, reference = _validators_for(schema)
    if fast is not None:
        try:
            fast(data)
            return None
        except fastjsonschema.JsonSchemaException:
            pass
    # The first error, as jsonschema's Validator.validate raises it.
    return next(iter(reference.iter_errors(data)), None)


def validate(data, schema):
    """Raise 400 'JSON does not validate' when ``data`` breaks ``schema``."""
    try:
        error = _check(data, schema)
        detail = None if error is None else str(error)
    except RecursionError:
        # Lists or objects nested deeper than any schema here allows.
        detail = 'nested too deeply'
    if detail is not None:
        raise errors.bad_request('JSON does not validate: %s' % detail)


def validate_query(params, schema):
    """Raise 400 'Invalid query string parameters' for bad ``params``."""
    error = _check(params, schema)
    if error is not None:
        raise errors.bad_request('Invalid query string parameters: %s' % error)


def _wants_integer(schema):
    kind = schema.get('type')
    return kind == 'integer' or (isinstance(kind, list) and 'integer' in kind
                                 and 'number' not in kind)


def integers(data, schema):
    """Make each integral float in ``data`` (a document ``schema``
    accepts) that the schema wants as an integer an int, in place."""
    if isinstance(data, dict):
        properties = schema.get('properties', {})
        patterns = schema.get('patternProperties', {})
        others = schema.get('additionalProperties')
        for key, value in data.items():
            subs = [properties[key]] if key in properties else []
            subs.extend(sub for pattern, sub in patterns.items()
                        if re.search(pattern, key))
            if not subs and isinstance(others, dict):
                subs.append(others)
            for sub in subs:
                data[key] = value = _integer_made_int(value, sub)
    elif isinstance(data, list) and isinstance(schema.get('items'), dict):
        for index, value in enumerate(data):
            data[index] = _integer_made_int(value, schema['items'])
    for sub in schema.get('anyOf', ()):
        integers(data, sub)


def _integer_made_int(value, schema):
    """``value`` as an int when it is a float ``schema`` wants as an
    integer; else ``value``, with its parts made so (``integers``)."""
    if isinstance(value, float) and _wants_integer(schema):
        return int(value)
    integers(value, schema)
    return value
