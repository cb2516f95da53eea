"""Falcon middleware: the concerns every request shares.

In request order: request id, CORS, authentication (noauth2), the
microversion, and request-shape checks (allowed method, content length
and type, Accept).  ``handle_error`` renders every failure in Placement's
error format.
"""

import logging
import uuid

import falcon
from oslo_context import context as oslo_context

from placement import errors
from placement import microversion

LOG = logging.getLogger(__name__)

REQUEST_ID_HEADER = 'X-OpenStack-Request-Id'
VERSION_HEADER = microversion.HEADER


class RequestId:
    """Give every request an id and return it in a response header."""

    def process_request(self, req, resp):
        req.context.request_id = 'req-' + str(uuid.uuid4())
        req.context.version = None
        resp.set_header(REQUEST_ID_HEADER, req.context.request_id)


class Cors:
    """Cross-origin resource sharing, enabled by ``[cors] allowed_origin``.

    A preflight ``OPTIONS`` request carrying ``Origin`` and
    ``Access-Control-Request-Method`` is answered here; other requests get
    the allow-origin headers added when their origin is allowed.
    """

    def __init__(self, cors_conf):
        self.origins = set(cors_conf.allowed_origin or [])
        self.allow_headers = [h.lower() for h in cors_conf.allow_headers]
        self.allow_methods = [m.upper() for m in cors_conf.allow_methods]
        self.expose_headers = cors_conf.expose_headers
        self.max_age = cors_conf.max_age
        self.allow_credentials = cors_conf.allow_credentials

    def _origin_allowed(self, origin):
        return origin and (origin in self.origins or '*' in self.origins)

    def process_request(self, req, resp):
        origin = req.get_header('Origin')
        method = req.get_header('Access-Control-Request-Method')
        if req.method != 'OPTIONS' or not origin or not method:
            return
        resp.status = falcon.HTTP_200
        resp.complete = True
        if not self._origin_allowed(origin) or \
                method.upper() not in self.allow_methods:
            return
        asked = req.get_header('Access-Control-Request-Headers') or ''
        asked = [h.strip().lower() for h in asked.split(',') if h.strip()]
        if any(h not in self.allow_headers for h in asked):
            return
        resp.set_header('Access-Control-Allow-Origin', origin)
        resp.set_header('Vary', 'Origin')
        if self.max_age:
            resp.set_header('Access-Control-Max-Age', str(self.max_age))
        resp.set_header('Access-Control-Allow-Methods', method.upper())
        if asked:
            resp.set_header('Access-Control-Allow-Headers', ','.join(asked))
        if self.allow_credentials:
            resp.set_header('Access-Control-Allow-Credentials', 'true')

    def process_response(self, req, resp, resource, req_succeeded):
        origin = req.get_header('Origin')
        if req.method == 'OPTIONS' or not self._origin_allowed(origin):
            return
        resp.set_header('Access-Control-Allow-Origin', origin)
        if self.allow_credentials:
            resp.set_header('Access-Control-Allow-Credentials', 'true')
        if self.expose_headers:
            resp.set_header('Access-Control-Expose-Headers',
                            ','.join(self.expose_headers))


class NoAuth:
    """The ``noauth2`` strategy: trust ``X-Auth-Token: USER[:PROJECT]``.

    ``GET /`` needs no token.  ``X-Roles`` gives roles; without it the user
    ``admin`` has the ``admin`` role.  ``X-Project-Id`` overrides the
    project, ``OpenStack-System-Scope: all`` makes a system-scoped request.
    """

    def process_request(self, req, resp):
        if req.path in ('/', ''):
            req.context.auth = oslo_context.RequestContext(
                request_id=req.context.request_id)
            return
        token = req.get_header('X-Auth-Token')
        if token is None:
            # (An empty token is a user with an empty name.)
            raise errors.HTTPError(401, 'Authentication required')
        user, _, project = token.partition(':')
        project = req.get_header('X-Project-Id') or project or user
        roles_header = req.get_header('X-Roles')
        if roles_header is not None:
            roles = [r.strip() for r in roles_header.split(',') if r.strip()]
        else:
            roles = ['admin'] if user == 'admin' else []
        system_scope = req.get_header('OpenStack-System-Scope')
        if system_scope:
            project = None
        req.context.auth = oslo_context.RequestContext(
            user_id=user, project_id=project, roles=roles,
            system_scope=system_scope, request_id=req.context.request_id)


class Microversion:
    """Parse the requested microversion; announce it on every response."""

    def process_request(self, req, resp):
        req.context.version = microversion.parse(
            req.get_header(VERSION_HEADER))

    def process_response(self, req, resp, resource, req_succeeded):
        version = req.context.get('version')
        if version is not None:
            resp.set_header(VERSION_HEADER, 'placement %s'
                            % microversion.format_version(version))
        resp.append_header('Vary', VERSION_HEADER.lower())


class RequestShape:
    """Checks every routed request must pass before its responder runs."""

    def process_request(self, req, resp):
        length = req.get_header('Content-Length')
        if length:
            try:
                size = int(length)
            except ValueError:
                raise errors.HTTPError(
                    400, 'content-length header must be an integer')
            if size > 0 and not req.content_type:
                raise errors.HTTPError(
                    400, 'content-type header required when '
                         'content-length > 0')

    def process_resource(self, req, resp, resource, params):
        if resource is None:
            return
        if '' in params.values():
            # An empty path segment ('/traits/') names nothing.
            raise errors.HTTPError(404)
        allowed = microversion.allowed_methods(resource)
        if req.method not in allowed:
            raise errors.method_not_allowed(allowed)
        if req.method == 'GET' and getattr(resource, 'json_only', True):
            if not _accepts(req, 'application/json'):
                raise errors.HTTPError(406, 'Only application/json is '
                                            'provided')


def _accepts(req, media):
    """Whether the client takes ``media`` (any client whose Accept header
    cannot be read does)."""
    accept = req.get_header('Accept')
    if not accept:
        return True
    ranges = _accepted(accept)
    return ranges is None or _quality(media, ranges) > 0


# What an error body can be besides plain text, in the order a client
# that takes both equally gets them.
_ERROR_MEDIA = ('text/html', 'application/json')


def _accepted(accept):
    """[(q, type, subtype)] of an Accept header's media ranges that can
    cover a type without parameters (a range naming parameters before
    its q cannot); None when the header cannot be read (a client that
    takes anything)."""
    ranges = []
    for item in accept.split(','):
        if not item.strip():
            continue
        media, *params = item.split(';')
        kind, slash, subtype = media.strip().lower().partition('/')
        if not slash or not kind or not subtype:
            return None
        q, plain = None, True
        for param in params:
            name, _, value = param.strip().partition('=')
            if q is not None:
                continue  # an extension of the range: of no account
            if name.strip().lower() != 'q':
                plain = False
                continue
            try:
                q = float(value)
            except ValueError:
                return None
            if not 0 <= q <= 1:
                return None
        if plain:
            ranges.append((1.0 if q is None else q, kind, subtype))
    return ranges


def _quality(media, ranges):
    """How much a client with ``ranges`` takes ``media``: the q of the
    most specific range that covers it."""
    kind, _, subtype = media.partition('/')
    best = None
    for q, range_kind, range_subtype in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            fit = 2
        elif range_kind == kind and range_subtype == '*':
            fit = 1
        elif (range_kind, range_subtype) == ('*', '*'):
            fit = 0
        else:
            continue
        if best is None or fit > best[0]:
            best = (fit, q)
    return 0 if best is None else best[1]


def _accept(req):
    """The Accept header as OpenStack Placement reads it: a client that
    names no type, or any type, takes JSON."""
    accept = req.get_header('Accept')
    return 'application/json' if not accept or accept == '*/*' else accept


def error_media(req):
    """The representation of an error body this client accepts, chosen
    as OpenStack Placement chooses it: JSON for a client that names no
    type or any type, else HTML or JSON by the Accept header's q
    values, else plain text."""
    accept = _accept(req)
    if accept == 'application/json':
        return accept
    ranges = _accepted(accept)
    if ranges is None:
        return _ERROR_MEDIA[0]
    best, best_q = 'text/plain', 0
    for media in _ERROR_MEDIA:
        q = _quality(media, ranges)
        if q > best_q:
            best, best_q = media, q
    return best


def _asked(req):
    """What the request named that an error body may repeat."""
    return {'method': req.method, 'accept': _accept(req),
            'content_type': req.get_header('Content-Type')}


def handle_error(req, resp, error, params):
    """Falcon error handler for every exception."""
    http_error = errors.to_http(error)
    if http_error is None and isinstance(error, falcon.HTTPError):
        status = error.status_code
        detail = error.description or ''
        headers = dict(error.headers or {})
        if status == 405:
            http_error = errors.method_not_allowed(
                [method.strip() for method in headers.get('Allow', '')
                 .split(',') if method.strip() not in ('', 'OPTIONS')])
        else:
            http_error = errors.HTTPError(
                status, '' if status == 404 else detail, headers=headers)
    if http_error is None:
        LOG.exception('Unexpected error handling %s %s',
                      req.method, req.path)
        http_error = errors.HTTPError(
            500, 'An unexpected error has occurred: %s'
            % type(error).__name__)
    resp.status = http_error.status
    for name, value in http_error.headers.items():
        resp.set_header(name, value)
    content_type, body = errors.render(
        http_error, req.context.get('request_id'),
        req.context.get('version'), error_media(req), _asked(req))
    resp.content_type = content_type
    resp.data = body
    resp.text = None
    resp.media = None


class KeystoneContext:
    """Credentials from keystonemiddleware's ``auth_token`` headers.

    ``auth_token`` runs around the application (see ``placement.app``)
    with ``delay_auth_decision`` so that ``GET /`` stays open; any other
    path needs a confirmed identity.
    """

    def process_request(self, req, resp):
        if req.path in ('/', ''):
            req.context.auth = oslo_context.RequestContext(
                request_id=req.context.request_id)
            return
        if req.get_header('X-Identity-Status') != 'Confirmed':
            raise errors.HTTPError(401, 'Authentication required')
        roles = [r.strip() for r in (req.get_header('X-Roles') or '')
                 .split(',') if r.strip()]
        req.context.auth = oslo_context.RequestContext(
            user_id=req.get_header('X-User-Id'),
            project_id=req.get_header('X-Project-Id'),
            roles=roles,
            system_scope=req.get_header('OpenStack-System-Scope'),
            request_id=req.context.request_id)
