"""Exceptions, their HTTP mapping (one table) and the error formatter.

The data layer raises domain exceptions (``ResourceProviderNotFound``,
``ConcurrentUpdateDetected``...).  The API layer raises ``HTTPError``
directly for request problems.  ``to_http`` turns any of them into an
``HTTPError`` using ``HTTP_MAP``, and ``render`` writes the body in
OpenStack Placement's format::

    {"errors": [{"status": 409, "title": "Conflict", "detail": "...",
                 "code": "placement.concurrent_update",
                 "request_id": "req-..."}]}

``code`` appears from microversion 1.23.  Clients that do not accept JSON
get the same message as HTML or plain text.
"""

import html
import json
import re

UNDEFINED = 'placement.undefined_code'
CONCURRENT_UPDATE = 'placement.concurrent_update'
DUPLICATE_NAME = 'placement.duplicate_name'
INVENTORY_INUSE = 'placement.inventory.inuse'
PROVIDER_INUSE = 'placement.resource_provider.inuse'
PROVIDER_CANNOT_DELETE_PARENT = \
    'placement.resource_provider.cannot_delete_parent'
PROVIDER_NOT_FOUND = 'placement.resource_provider.not_found'
QUERY_DUPLICATE_KEY = 'placement.query.duplicate_key'
QUERY_BAD_VALUE = 'placement.query.bad_value'
QUERY_MISSING_VALUE = 'placement.query.missing_value'

TITLES = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
    409: 'Conflict', 413: 'Request Entity Too Large',
    415: 'Unsupported Media Type', 500: 'Internal Server Error',
    501: 'Not Implemented', 503: 'Service Unavailable',
}

# The first paragraph of every error detail, per status, as OpenStack
# Placement's WSGI stack writes it (but for those in ``_BODIES``).
# Clients match on these.
EXPLANATIONS = {
    400: 'The server could not comply with the request since it is either '
         'malformed or otherwise incorrect.',
    401: 'This server could not verify that you are authorized to access '
         'the document you requested. Either you supplied the wrong '
         'credentials (e.g., bad password), or your browser does not '
         'understand how to supply the credentials required.',
    403: 'Access was denied to this resource.',
    404: 'The resource could not be found.',
    409: 'There was a conflict when trying to complete your request.',
    413: 'The request is larger than the server is willing or able to '
         'process.',
    500: 'The server has either erred or is incapable of performing the '
         'requested operation.',
}


class HTTPError(Exception):
    """An error response: status, human detail and Placement error code."""

    def __init__(self, status, detail='', code=UNDEFINED, headers=None,
                 fields=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}
        # More members of the error's JSON entry.
        self.fields = fields or {}


def bad_request(detail, code=UNDEFINED):
    return HTTPError(400, detail, code)


def not_found(detail='', code=UNDEFINED):
    return HTTPError(404, detail, code)


def conflict(detail, code=UNDEFINED):
    return HTTPError(409, detail, code)


def method_not_allowed(allowed, detail='The method specified is not '
                       'allowed for this resource.'):
    """405, with ``allowed`` (the methods the URL answers) in Allow."""
    return HTTPError(405, detail, headers={'Allow': ', '.join(allowed)})


# ---------------------------------------------------------------------
# Domain exceptions raised by the data layer.

class PlacementError(Exception):
    """Base of domain errors; ``msg_fmt`` is formatted with kwargs."""

    msg_fmt = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs if kwargs else self.msg_fmt
        super().__init__(message)


class NotFound(PlacementError):
    msg_fmt = 'Resource could not be found.'


class ResourceProviderNotFound(NotFound):
    msg_fmt = 'No resource provider with uuid %(uuid)s found'


class ResourceClassNotFound(NotFound):
    msg_fmt = 'No such resource class %(name)s.'


class TraitNotFound(NotFound):
    msg_fmt = 'No such trait(s): %(names)s.'


class InventoryNotFound(NotFound):
    msg_fmt = 'No inventory of class %(resource_class)s found.'


class Exists(PlacementError):
    msg_fmt = 'Resource already exists.'


class DuplicateName(Exists):
    """A named entity already exists (placement.duplicate_name)."""


class ConcurrentUpdateDetected(PlacementError):
    msg_fmt = ('Another thread concurrently updated the data. '
               'Please retry your update')


class DatabaseContention(ConcurrentUpdateDetected):
    """Deadlocks or lock waits persisted through every retry."""


class InvalidInput(PlacementError):
    """Input that passed the schema but makes no sense (HTTP 400)."""


class CannotDeleteParentProvider(PlacementError):
    msg_fmt = 'Cannot delete resource provider that has child providers.'


class ResourceProviderInUse(PlacementError):
    msg_fmt = 'Resource provider has allocations.'


class InventoryInUse(PlacementError):
    msg_fmt = 'Inventory in use.'


class InventoryExists(Exists):
    """An inventory of that class is already on the provider.  OpenStack
    Placement reports this as an update conflict."""
    msg_fmt = ("Inventory for '%(resource_class)s' on resource provider "
               "'%(resource_provider)s' already exists.")


class InvalidInventoryCapacity(InvalidInput):
    """Reserved leaves no usable capacity (reserved >= total before 1.26,
    reserved > total from 1.26)."""


class StandardResourceClass(InvalidInput):
    """Standard resource classes cannot be renamed or deleted."""


class InvalidInventory(PlacementError):
    """An allocation the provider's inventory cannot take (HTTP 409)."""


class InUse(PlacementError):
    """Something (not inventory) is still referenced."""


class ResourceClassInUse(InUse):
    msg_fmt = ('Cannot delete resource class %(resource_class)s. '
               'Class is in use in %(where)s.')


class Conflict(PlacementError):
    """A generic conflict with current state (HTTP 409)."""


# Domain exception -> (HTTP status, Placement error code).  Looked up along
# the exception's MRO, so the most specific entry wins.
HTTP_MAP = {
    NotFound: (404, UNDEFINED),
    Exists: (409, UNDEFINED),
    DuplicateName: (409, DUPLICATE_NAME),
    ConcurrentUpdateDetected: (409, CONCURRENT_UPDATE),
    InvalidInput: (400, UNDEFINED),
    CannotDeleteParentProvider: (409, PROVIDER_CANNOT_DELETE_PARENT),
    ResourceProviderInUse: (409, PROVIDER_INUSE),
    InventoryInUse: (409, INVENTORY_INUSE),
    InventoryExists: (409, CONCURRENT_UPDATE),
    InvalidInventory: (409, UNDEFINED),
    InUse: (409, UNDEFINED),
    Conflict: (409, UNDEFINED),
}


def to_http(error):
    """The ``HTTPError`` for any exception this service raises on purpose,
    or None for anything else (a bug: answered as 500)."""
    if isinstance(error, HTTPError):
        return error
    for klass in type(error).__mro__:
        if klass in HTTP_MAP:
            status, code = HTTP_MAP[klass]
            return HTTPError(status, str(error), code)
    return None


# The body of an error as OpenStack Placement's WSGI stack (webob) lays
# it out: a first paragraph, a break, then the detail.  Three statuses
# name something from the request in their first paragraph.
_BODY = '%(explanation)s<br /><br />\n%(detail)s\n\n'
_BODIES = {
    405: 'The method %(method)s is not allowed for this resource. '
         '<br /><br />\n%(detail)s',
    406: 'The resource could not be generated that was acceptable to your '
         'browser\n(content of type %(accept)s. <br /><br />\n%(detail)s',
    415: 'The request media type %(content_type)s is not supported by this '
         'server.\n<br /><br />\n%(detail)s',
}
# What the request names when it does not say (a client that names no
# media type takes JSON).
_UNNAMED = {'method': '', 'accept': 'application/json',
            'content_type': 'None'}
_BREAK = re.compile(r'<br.*?>', re.I | re.S)
_COMMENT_MARK = re.compile(r'<!--|-->')
_TAG = re.compile(r'<.*?>', re.S)


def _as_text(body):
    """The body as the JSON ``detail`` and the plain text answer carry
    it: line ends become spaces, breaks line ends, and tags go."""
    body = body.replace('\n', ' ').replace('\r', '')
    body = _BREAK.sub('\n', body)
    body = _COMMENT_MARK.sub('', body)
    return _TAG.sub('', body)


# The templates as text.  Filled with values holding no '<' and no
# '-->' (whose line ends are made spaces), they give what ``_as_text``
# gives of the filled template: its tags close before any value.
_TEXTS = {status: _as_text(template) for status, template
          in [(None, _BODY)] + list(_BODIES.items())}


def _values(error, asked):
    values = {name: asked.get(name) or unnamed
              for name, unnamed in _UNNAMED.items()}
    values['explanation'] = EXPLANATIONS.get(error.status, '')
    values['detail'] = error.detail or ''
    return values


def _text(error, asked):
    """The error's body as text (the JSON ``detail``)."""
    values = _values(error, asked)
    joined = ''.join(values.values())
    if '<' in joined or '-->' in joined:
        return _as_text(_BODIES.get(error.status, _BODY) % values)
    if '\n' in joined or '\r' in joined:
        values = {name: value.replace('\n', ' ').replace('\r', '')
                  for name, value in values.items()}
    return _TEXTS[error.status if error.status in _BODIES else None] % values


def _html(error, asked):
    """The error's body as HTML, every value escaped."""
    values = {name: html.escape(value, True).encode(
        'ascii', 'xmlcharrefreplace').decode('ascii')
        for name, value in _values(error, asked).items()}
    return _BODIES.get(error.status, _BODY) % values


def render(error, request_id, version=None, media='application/json',
           asked=None):
    """(content type, body bytes) for ``error``.

    ``version`` is the request's microversion (a tuple) or None when it
    could not be parsed; ``media`` is the representation the client
    accepts: application/json, text/html or text/plain; ``asked`` holds
    the request's method, Accept and Content-Type (as 'method',
    'accept', 'content_type'), which some statuses' bodies name.
    """
    status = error.status
    asked = asked or {}
    status_line = '%d %s' % (status, TITLES.get(status, 'Error'))
    if media == 'text/html':
        body = ('<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n'
                '  <h1>%s</h1>\n  %s\n </body>\n</html>' % (
                    status_line, status_line, _html(error, asked)))
        return 'text/html; charset=UTF-8', body.encode('utf-8')
    detail = _text(error, asked)
    if media != 'application/json':
        return ('text/plain; charset=UTF-8',
                ('%s\n\n%s' % (status_line, detail)).encode('utf-8'))
    entry = {'status': status, 'title': TITLES.get(status, 'Error'),
             'detail': detail}
    if version is not None and version >= (1, 23):
        entry['code'] = error.code
    if request_id is not None:
        entry['request_id'] = request_id
    entry.update(error.fields)
    return media, json.dumps({'errors': [entry]}).encode('utf-8')
