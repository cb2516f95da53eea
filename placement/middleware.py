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
        if not token:
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
            raise errors.HTTPError(405, headers={'Allow': ', '.join(allowed)})
        if req.method == 'GET' and getattr(resource, 'json_only', True):
            if not _accepts(req, 'application/json'):
                raise errors.HTTPError(406, 'Only application/json is '
                                            'provided')


def _accepts(req, media):
    accept = req.get_header('Accept')
    if not accept:
        return True
    return req.client_accepts(media)


def error_media(req):
    """The representation of an error body this client accepts."""
    accept = req.get_header('Accept')
    if not accept or accept == 'application/json':
        return 'application/json'
    best = req.client_prefers(('application/json', 'text/html', 'text/plain'))
    return best or 'text/plain'


def handle_error(req, resp, error, params):
    """Falcon error handler for every exception."""
    http_error = errors.to_http(error)
    if http_error is None and isinstance(error, falcon.HTTPError):
        status = error.status_code
        detail = error.description or ''
        headers = dict(error.headers or {})
        if status == 405:
            headers['Allow'] = headers.get('Allow', '').replace(
                ', OPTIONS', '').replace('OPTIONS, ', '')
        if status == 404:
            detail = ''
        http_error = errors.HTTPError(status, detail, headers=headers)
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
        req.context.get('version'), error_media(req), req.method)
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
