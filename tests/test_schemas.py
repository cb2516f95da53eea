"""placement/schemas: the compiled fast path must never accept a
document that jsonschema (the reference, and what OpenStack Placement
uses) rejects, and error messages always come from jsonschema.

Every schema of every resource, at every microversion, is checked
against a corpus of awkward values put in every place a schema names.
"""

import copy
import itertools
import math

import pytest

from placement import errors
from placement import schemas
from placement.microversion import Versioned
from placement.schemas import aggregate
from placement.schemas import allocation
from placement.schemas import allocation_candidate
from placement.schemas import inventory
from placement.schemas import reshaper
from placement.schemas import resource_class
from placement.schemas import resource_provider
from placement.schemas import trait

MODULES = (aggregate, allocation, allocation_candidate, inventory, reshaper,
           resource_class, resource_provider, trait)

UUID = '5d9c0bd7-0b32-4c52-8c2c-94c6a1b1f2a4'
AWKWARD = [
    None, True, False, 0, 1, -1, 1.0, 8.0, 0.5, -0.0, 2 ** 31, 2 ** 63,
    10 ** 30, math.inf, -math.inf, math.nan, '', 'x', 'VCPU', 'CUSTOM_A',
    'custom_a', 'CUSTOM_A\n', '\x00', '\ud800', 'é' * 300, UUID,
    UUID.upper(), UUID.replace('-', ''), '{%s}' % UUID, UUID + '\n',
    'not-a-uuid', [], [UUID], [UUID, UUID], ['a', 'a'], [1, True], [1, 1.0],
    {}, {'a': 1}, {'VCPU': 1}, {'total': 1},
]


def all_schemas():
    found = {}
    for module in MODULES:
        for name, value in vars(module).items():
            if isinstance(value, Versioned):
                for index, variant in enumerate(value._values):
                    if isinstance(variant, dict):
                        found['%s.%s[%d]' % (module.__name__, name,
                                             index)] = variant
            elif (isinstance(value, dict) and not name.startswith('__')
                  and isinstance(value.get('type'), str)):
                found['%s.%s' % (module.__name__, name)] = value
    return found


SCHEMAS = all_schemas()


def example(schema):
    """A document shaped like ``schema`` (valid or not), with a slot
    for every property the schema names."""
    kind = schema.get('type')
    if kind == 'object':
        doc = {}
        for key, sub in schema.get('properties', {}).items():
            doc[key] = example(sub)
        for pattern, sub in schema.get('patternProperties', {}).items():
            doc['VCPU'] = example(sub)
        return doc
    if kind == 'array':
        items = schema.get('items')
        return [example(items)] if isinstance(items, dict) else []
    if kind == 'integer':
        return 1
    if kind == 'number':
        return 1.5
    if kind == 'boolean':
        return True
    if kind == 'string':
        return UUID if schema.get('format') == 'uuid' else 'CUSTOM_A'
    return None


def paths(doc, prefix=()):
    """Every place in ``doc`` a value can be put."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, prefix + (index,))


def replaced(doc, path, value):
    if not path:
        return value
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def documents(schema):
    base = example(schema)
    yield base
    for path, value in itertools.product(list(paths(base)), AWKWARD):
        yield replaced(base, path, value)


def verdict(document, schema):
    try:
        schemas.validate(document, schema)
    except errors.HTTPError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize('name', sorted(SCHEMAS))
def test_fast_path_agrees_with_jsonschema(name):
    schema = SCHEMAS[name]
    reference = schemas._Validator(
        schema, format_checker=schemas._format_checker)
    checked = 0
    for document in documents(schema):
        error = next(iter(reference.iter_errors(document)), None)
        found = verdict(document, schema)
        if error is None:
            assert found is None, (document, found)
        else:
            assert found is not None, ('accepted', document, error.message)
        checked += 1
    assert checked > 1


def test_error_message_is_jsonschema_s():
    schema = trait.PROVIDER_TRAITS
    with pytest.raises(errors.HTTPError) as caught:
        schemas.validate({'traits': 'x', 'resource_provider_generation': 1},
                         schema)
    assert "'x' is not of type 'array'" in str(caught.value)


def test_integral_floats_are_integers():
    # As OpenStack Placement's checks (the newest draft) count them.
    schema = {'type': 'object', 'properties': {'total': {'type': 'integer'}}}
    assert verdict({'total': 8}, schema) is None
    assert verdict({'total': 8.0}, schema) is None
    assert verdict({'total': 1e300}, schema) is None
    assert verdict({'total': 8.5}, schema) is not None
    assert verdict({'total': True}, schema) is not None
    assert verdict({'total': math.inf}, schema) is not None


def test_integers_become_ints_where_the_schema_wants_them():
    data = {'resource_provider_generation': 3.0, 'inventories': {
        'VCPU': {'total': 8.0, 'max_unit': 4, 'allocation_ratio': 2.0}}}
    schemas.validate(data, inventory.PUT_ALL)
    schemas.integers(data, inventory.PUT_ALL)
    assert data == {'resource_provider_generation': 3, 'inventories': {
        'VCPU': {'total': 8, 'max_unit': 4, 'allocation_ratio': 2.0}}}
    assert type(data['resource_provider_generation']) is int
    assert type(data['inventories']['VCPU']['total']) is int
    assert type(data['inventories']['VCPU']['allocation_ratio']) is float
    claim = {'allocations': {UUID: {'resources': {'VCPU': 2.0}}},
             'project_id': 'p', 'user_id': 'u', 'consumer_generation': 1.0,
             'consumer_type': 'INSTANCE'}
    schema = allocation.PUT[(1, 39)]
    schemas.validate(claim, schema)
    schemas.integers(claim, schema)
    assert type(claim['consumer_generation']) is int
    assert type(claim['allocations'][UUID]['resources']['VCPU']) is int


@pytest.mark.parametrize('items', [
    [UUID, '7a1e5c62-0a3f-4b8e-9d1c-2f6b8e4a9c10'],
    [UUID.upper(), UUID.replace('-', '')[:-1] + '5'],
    ['{%s}' % UUID, 'urn:uuid:7a1e5c62-0a3f-4b8e-9d1c-2f6b8e4a9c10'],
    ['%s,%s' % (UUID, '7a1e5c62-0a3f-4b8e-9d1c-2f6b8e4a9c10'), ''],
    [UUID, UUID[:-1]], [UUID + ' '], [UUID, 'x' * 36],
])
def test_uuid_arrays_agree_with_jsonschema(items):
    # Arrays of uuids are checked all at once when every item is in the
    # canonical form, item by item otherwise.
    for schema in (aggregate.PUT[(1, 1)], aggregate.PUT[(1, 19)]):
        document = items if schema.get('type') == 'array' else {
            'aggregates': items, 'resource_provider_generation': 1}
        reference = schemas._Validator(
            schema, format_checker=schemas._format_checker)
        error = next(iter(reference.iter_errors(document)), None)
        found = verdict(document, schema)
        assert (found is None) == (error is None), (items, found)
        if error is not None:
            assert error.message in found
