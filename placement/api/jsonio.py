"""Reading JSON request bodies and writing JSON responses.

Also the response headers OpenStack Placement adds to representations:
``last-modified`` and ``cache-control: no-cache`` from microversion 1.15.
"""

import datetime
import json
import re
import urllib.parse

import falcon

from placement import errors
from placement import microversion
from placement import schemas

CACHE_HEADERS_VERSION = (1, 15)
# What can put half of a surrogate pair in a document (a string that is
# not unicode text): a JSON escape of one, which ``json.loads`` lets
# through.  (One encoded as UTF-8 is no UTF-8.)
_SURROGATE = re.compile(rb'\\u[dD][89a-fA-F]')


def _is_text(data):
    """False when a string in the document ``data`` holds a lone
    surrogate (which no database column takes)."""
    try:
        json.dumps(data, ensure_ascii=False).encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def _require_json(req):
    media_type = (req.content_type or '').split(';')[0]
    if media_type.strip().lower() != 'application/json':
        raise errors.HTTPError(
            415, 'The media type %s is not supported, use application/json'
            % (media_type or None))


def requires_json(before=None):
    """A responder hook answering 415 unless the request body is JSON
    (before microversion ``before``, when given).  Placed where
    OpenStack Placement checks the media type among a handler's other
    checks: before the policy, and before or after the microversion
    gate as it does."""
    if before is not None:
        before = microversion.to_tuple(before)

    def hook(req, resp, resource, params):
        if before is None or req.context.version < before:
            _require_json(req)
    return falcon.before(hook)


def read(req, schema=None):
    """The request's JSON document, validated against ``schema``."""
    _require_json(req)
    raw = req.bounded_stream.read()
    try:
        # UTF-8 only, as OpenStack Placement reads it (json.loads would
        # take UTF-16 and a byte order mark).
        floats = []
        data = json.loads(raw.decode('utf-8'),
                          parse_float=lambda text: floats.append(text)
                          or float(text))
    except ValueError as exc:
        raise errors.bad_request('Malformed JSON: %s' % exc)
    except RecursionError:
        raise errors.bad_request('Malformed JSON: nested too deeply')
    if _SURROGATE.search(raw) and not _is_text(data):
        raise errors.bad_request(
            'Malformed JSON: a string holds half of a surrogate pair, '
            'which is not unicode text')
    if schema is not None:
        schemas.validate(data, schema)
        if floats:
            schemas.integers(data, schema)
    return data


def query(req, schema=None):
    """The query string as a dict of the last value of each parameter."""
    params = {}
    for key, value in req.params.items():
        params[key] = value[-1] if isinstance(value, list) else value
    if schema is not None:
        validate_query(req, params, schema)
    return params


def validate_query(req, params, schema):
    """Check the query string: its names and values must be UTF-8 once
    their %-escapes are undone, then ``params`` must pass ``schema``;
    400 'Invalid query string parameters' otherwise."""
    raw = req.env.get('QUERY_STRING', '')
    if '%' in raw or not raw.isascii():
        for item in re.split(rb'[&;]', raw.encode('latin-1')
                             .replace(b'+', b' ')):
            for part in item.split(b'=', 1):
                try:
                    urllib.parse.unquote_to_bytes(part).decode('utf-8')
                except UnicodeDecodeError as exc:
                    raise errors.bad_request(
                        'Invalid query string parameters: %s' % exc)
    schemas.validate_query(params, schema)


def query_all(req, name):
    """Every value given for the query parameter ``name``."""
    value = req.params.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
_MONTHS = (None, 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug',
           'Sep', 'Oct', 'Nov', 'Dec')


def http_date(moment=None):
    """``moment`` (naive means UTC; None means now) as an HTTP date, as
    ``email.utils.format_datetime(..., usegmt=True)`` writes it, in a
    fraction of its time."""
    if moment is None:
        moment = datetime.datetime.now(datetime.timezone.utc)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return '%s, %02d %s %04d %02d:%02d:%02d GMT' % (
        _DAYS[moment.weekday()], moment.day, _MONTHS[moment.month],
        moment.year, moment.hour, moment.minute, moment.second)


def last_modified(*rows):
    """The latest ``updated_at``/``created_at`` of ``rows`` (or None)."""
    latest = None
    for row in rows:
        if row is None:
            continue
        moment = row.updated_at or row.created_at
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest


def write(req, resp, data, status=200, modified=None, cache_headers=True):
    """Render ``data`` as the JSON response body.

    From 1.15 ``last-modified`` (``modified`` or now) and
    ``cache-control: no-cache`` are added unless ``cache_headers`` is
    False.
    """
    resp.status = status
    resp.content_type = 'application/json'
    resp.data = json.dumps(data).encode('utf-8')
    if cache_headers:
        add_cache_headers(req, resp, modified)


def add_cache_headers(req, resp, modified=None):
    """From 1.15: ``last-modified`` (``modified`` or now) and
    ``cache-control: no-cache``."""
    if req.context.version >= CACHE_HEADERS_VERSION:
        resp.set_header('Last-Modified', http_date(modified))
        resp.set_header('Cache-Control', 'no-cache')


def no_content(resp, status=204):
    resp.status = status
    resp.data = b''
    resp.content_type = None
