"""Microversions: parsing the request header and choosing by version.

A version is a ``(major, minor)`` tuple.  Clients ask for one with
``OpenStack-API-Version: placement X.Y`` (or ``latest``); without the
header they get ``MIN_VERSION``.

Handlers declare their microversion differences next to themselves with
``Versioned`` (a table from the first version of a variant to the variant:
a schema, a function, a field list) and ``since`` (the first version at
which a responder exists at all).
"""

import bisect
import functools

from placement import errors

SERVICE_TYPE = 'placement'
HEADER = 'OpenStack-API-Version'
MIN_VERSION = (1, 0)
MAX_VERSION = (1, 39)


class Version(tuple):
    """(major, minor); built from the parts of 'X.Y' as OpenStack
    Placement builds its versions, so that a malformed one fails with
    the same words."""

    def __new__(cls, major, minor):
        return tuple.__new__(cls, (major, minor))


@functools.lru_cache(maxsize=64)
def parse(value):
    """Return the (major, minor) asked for by an ``OpenStack-API-Version``
    header value, MIN_VERSION when it names no placement version.

    Raises ``HTTPError`` 400 for a malformed version and 406 for one this
    service does not provide (saying which it does), in OpenStack
    Placement's words.
    """
    if not value:
        return MIN_VERSION
    wanted = None
    for item in value.split(','):
        parts = item.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() == SERVICE_TYPE:
            wanted = parts[1].strip()
    if wanted is None:
        return MIN_VERSION
    if wanted == 'latest':
        return MAX_VERSION
    # X.Y where each is what Python reads as an integer ('1.01' is 1.1).
    try:
        parts = [int(part) for part in wanted.split('.', 1)]
        version = tuple(Version(*parts))
    except (ValueError, TypeError) as error:
        raise errors.HTTPError(
            400, 'Invalid microversion: invalid version string: %s; %s'
            % (wanted, error)) from None
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise errors.HTTPError(
            406, 'Invalid microversion: Unacceptable version header: %s'
            % wanted, fields={'max_version': format_version(MAX_VERSION),
                              'min_version': format_version(MIN_VERSION)})
    return version


def format_version(version):
    return '%d.%d' % version


def to_tuple(version):
    if isinstance(version, tuple):
        return version
    major, minor = version.split('.')
    return int(major), int(minor)


class Versioned:
    """A table of variants keyed by the first microversion they apply to.

    >>> shape = Versioned({'1.0': 'old', '1.19': 'new'})
    >>> shape[(1, 18)], shape[(1, 19)]
    ('old', 'new')

    Asking below the first key gives ``default``.
    """

    def __init__(self, table, default=None):
        items = sorted((to_tuple(k), v) for k, v in table.items())
        self._keys = [k for k, _ in items]
        self._values = [v for _, v in items]
        self.default = default

    def __getitem__(self, version):
        index = bisect.bisect_right(self._keys, version)
        if index == 0:
            return self.default
        return self._values[index - 1]


def since(min_version, status=404):
    """Decorate a Falcon responder that exists from ``min_version`` on.

    Below it the request is answered as if the responder did not exist:
    404 by default, or ``status`` (405 for a method added to an existing
    URL).
    """
    min_version = to_tuple(min_version)

    def decorator(responder):
        @functools.wraps(responder)
        def wrapper(self, req, resp, *args, **kwargs):
            if req.context.version < min_version:
                if status == 405:
                    # With no detail, as OpenStack Placement words it
                    # (its Allow header is left out there).
                    raise errors.method_not_allowed(
                        allowed_methods(self, req), detail='')
                raise errors.HTTPError(status)
            return responder(self, req, resp, *args, **kwargs)
        wrapper.min_version = min_version
        return wrapper
    return decorator


def allowed_methods(resource, req=None):
    """HTTP methods ``resource`` answers (at the request's microversion,
    with ``req``), as a tuple."""
    return _allowed_methods(type(resource),
                            req.context.version if req is not None else None)


@functools.lru_cache(maxsize=None)
def _allowed_methods(resource_class, version):
    methods = []
    for method in resource_class.METHOD_ORDER:
        responder = getattr(resource_class, 'on_' + method.lower(), None)
        if responder is None:
            continue
        min_version = getattr(responder, 'min_version', MIN_VERSION)
        if version is not None and version < min_version:
            continue
        methods.append(method)
    return tuple(methods)
