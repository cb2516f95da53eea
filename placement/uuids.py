"""UUID strings as Placement accepts them, in one place.

Accepted spellings, as OpenStack Placement accepts them: 32 hex digits in
any case, with or without dashes, optionally in braces or behind a
``urn:uuid:`` prefix.  Stored and returned in the canonical lower-case
dashed form.
"""

import functools
import re
import uuid

_CANONICAL = re.compile(
    r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def normalize(value):
    """The canonical form of ``value``, or None when it is no uuid."""
    if not isinstance(value, str):
        return None
    if len(value) <= _CACHED_LENGTH:
        return _normalize_cached(value)
    return _normalize(value)


# Clients send the same uuids again and again (a provider's aggregates
# in every write of them): short strings' answers are remembered.
_CACHED_LENGTH = 64


def _normalize(value):
    if _CANONICAL.fullmatch(value):
        return value
    plain = (value.replace('urn:', '').replace('uuid:', '').strip('{}')
             .replace('-', '').lower())
    if len(plain) != 32:
        return None
    try:
        parsed = uuid.UUID(plain)
    except ValueError:
        return None
    return str(parsed) if parsed.hex == plain else None


_normalize_cached = functools.lru_cache(maxsize=8192)(_normalize)


def is_uuid(value):
    return normalize(value) is not None


_CANONICAL_CHARACTERS = b'0123456789abcdef-,'


def all_canonical(values):
    """True when every item of the list ``values`` is a string in the
    canonical form, checked over all of them at once: joined with commas
    they make an ASCII text as long as that many uuids and commas, with
    a comma after every 36 characters and a dash at each dash position
    of each uuid, no other comma or dash (so the commas are the ones the
    join put between items, and each item is 36 characters long), and
    lower-case hex digits elsewhere."""
    count = len(values)
    if not count:
        return True
    try:
        text = ','.join(values).encode('ascii')
    except (TypeError, UnicodeEncodeError):
        return False
    if len(text) != 37 * count - 1:
        return False
    dashes = b'-' * count
    return (text[36::37] == b',' * (count - 1)
            and text.count(b',') == count - 1
            and text[8::37] == dashes and text[13::37] == dashes
            and text[18::37] == dashes and text[23::37] == dashes
            and text.count(b'-') == 4 * count
            and not text.translate(None, _CANONICAL_CHARACTERS))
