"""The application factory.

``create_app(conf)`` builds the Falcon WSGI application from a loaded
configuration: the database handle, the policy enforcer, the middleware
stack and the route table.
"""

import logging

import falcon

from placement import conf as conf_mod
from placement import middleware
from placement import policy
from placement import routes
from placement import warmup
from placement.db import database
from placement.db import sync

LOG = logging.getLogger(__name__)


def make_database(conf):
    """The ``Database`` named by ``[placement_database] connection``,
    once its server can be reached (``Database.reach``)."""
    db = database.Database(conf_mod.database_url(conf), conf)
    db.reach()
    return db


def create_app(conf, db=None, sync_standard=True):
    """A WSGI application serving the Placement API."""
    if db is None:
        db = make_database(conf)
    if conf.placement_database.sync_on_startup:
        sync.upgrade(db)
    if sync_standard:
        sync.sync_standard(db)
    enforcer = policy.Policy(conf)

    stack = [middleware.RequestId()]
    if conf.cors.allowed_origin:
        stack.append(middleware.Cors(conf.cors))
    if conf.api.auth_strategy == 'noauth2':
        stack.append(middleware.NoAuth())
    else:
        stack.append(middleware.KeystoneContext())
    stack += [middleware.Microversion(), middleware.RequestShape()]

    app = falcon.App(middleware=stack, request_type=falcon.Request)
    app.req_options.keep_blank_qs_values = True
    app.req_options.auto_parse_qs_csv = False
    app.req_options.strip_url_path_trailing_slash = False
    app.resp_options.secure_cookies_by_default = False
    # Bodiless answers (201 before 1.20, 204) carry no content-type.
    app.resp_options.default_media_type = None
    for template, resource_class in routes.ROUTES:
        app.add_route(template, resource_class(db, enforcer, conf))
    app.add_error_handler(Exception, middleware.handle_error)
    app.add_error_handler(falcon.HTTPError, middleware.handle_error)
    return app


def wsgi_app(conf, db=None):
    """``create_app``, warmed up (``placement.warmup``), plus for
    ``auth_strategy = keystone`` keystonemiddleware's ``auth_token`` in
    front of it."""
    app = create_app(conf, db)
    warmup.warm(app)
    if conf.api.auth_strategy != 'keystone':
        return app
    try:
        from keystonemiddleware import auth_token
    except ImportError:
        raise RuntimeError(
            'auth_strategy = keystone needs the keystonemiddleware '
            'package; install it or set [api] auth_strategy = noauth2')
    return auth_token.AuthProtocol(
        app, {'oslo_config_config': conf, 'delay_auth_decision': True})
