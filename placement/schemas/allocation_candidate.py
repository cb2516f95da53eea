"""Query string schemas of ``GET /allocation_candidates``, per microversion.

The schemas check parameter names and the shape of single values; the
syntax inside ``resources``, ``required`` and ``member_of`` values is
checked by ``placement.api.provider_query``.

- 1.10: ``resources`` (required);
- 1.16: ``limit``;
- 1.17: ``required``;
- 1.21: ``member_of``;
- 1.25: request groups: ``resources``, ``required`` and ``member_of`` with
  an optional numeric suffix, and ``group_policy``;
- 1.31: ``in_tree`` (with suffix too);
- 1.33: suffixes of 1 to 64 letters, digits, ``_`` and ``-``;
- 1.35: ``root_required``;
- 1.36: ``same_subtree``.
"""

import copy

from placement.microversion import Versioned

# The group keys that take a suffix (1.25 on).
GROUP_KEYS = ('resources', 'required', 'member_of', 'in_tree')
NUMERIC_SUFFIX = '[1-9][0-9]*'
NAMED_SUFFIX = '[a-zA-Z0-9_-]{1,64}'

_STRING = {'type': 'string'}

_1_10 = {
    'type': 'object',
    'properties': {'resources': _STRING},
    'required': ['resources'],
    'additionalProperties': False,
}


def _with(base, **properties):
    schema = copy.deepcopy(base)
    schema['properties'].update(properties)
    return schema


_1_16 = _with(_1_10, limit={
    # Query values are strings; a positive integer written in decimal.
    'type': ['integer', 'string'],
    'pattern': '^[1-9][0-9]*$',
    'minimum': 1,
    'minLength': 1,
})
_1_17 = _with(_1_16, required=_STRING)
_1_21 = _with(_1_17, member_of=_STRING)


def _grouped(base, keys, suffix):
    """``base`` with the group keys as pattern properties (suffix
    optional) instead of plain properties."""
    schema = copy.deepcopy(base)
    schema.pop('required', None)
    for key in GROUP_KEYS:
        schema['properties'].pop(key, None)
    schema['patternProperties'] = {
        '^%s(%s)?$' % (key, suffix): _STRING for key in keys}
    return schema


_1_25 = _grouped(_with(_1_21, group_policy={
    'type': 'string', 'enum': ['none', 'isolate']}),
    GROUP_KEYS[:3], NUMERIC_SUFFIX)
_1_31 = _grouped(_1_25, GROUP_KEYS, NUMERIC_SUFFIX)
_1_33 = _grouped(_1_31, GROUP_KEYS, NAMED_SUFFIX)
_1_35 = _with(_1_33, root_required=_STRING)
_1_36 = _with(_1_35, same_subtree=_STRING)

QUERY = Versioned({
    '1.10': _1_10, '1.16': _1_16, '1.17': _1_17, '1.21': _1_21,
    '1.25': _1_25, '1.31': _1_31, '1.33': _1_33, '1.35': _1_35,
    '1.36': _1_36,
})

# The suffix syntax of request group keys, by microversion: None before
# 1.25 (only the unsuffixed group exists).
SUFFIX = Versioned({'1.10': None, '1.25': NUMERIC_SUFFIX,
                    '1.33': NAMED_SUFFIX})
