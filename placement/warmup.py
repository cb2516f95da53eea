"""Readying a new server process before it takes its first request.

A process's first requests of each kind pay for work later ones reuse:
opening its database connections (on MariaDB/MySQL pymysql builds a TLS
context for each, tens of milliseconds), compiling the JSON schemas of
request bodies, building the statements the data layer sends, and the
interpreter specialising the code on the way.  ``warm`` pays for it at
start-up by sending the application a few requests about a provider
that does not exist: reads that find nothing, and writes that name it
and so are refused before anything is written.  Then it moves what
start-up allocated out of the garbage collector's sight (``gc.freeze``),
so that collections while serving do not walk it again and again.

Warming up is best effort: a request that fails here is logged and
forgotten, and the process serves as it would have without it.
"""

import gc
import io
import json
import logging
import uuid

LOG = logging.getLogger(__name__)

# Each request is sent this many times: Python specialises code after it
# has run a few times.
ROUNDS = 3

_AUTH_HEADERS = {
    # noauth2
    'HTTP_X_AUTH_TOKEN': 'admin',
    # what keystonemiddleware's auth_token passes on
    'HTTP_X_IDENTITY_STATUS': 'Confirmed',
    'HTTP_X_ROLES': 'admin',
    'HTTP_X_USER_ID': 'admin',
    'HTTP_X_PROJECT_ID': 'admin',
}


def _requests(provider, aggregate):
    """(method, path, version, body) of the requests sent; none of them
    can change anything: ``provider`` does not exist."""
    base = '/resource_providers/' + provider
    return [
        ('GET', base, '1.39', None),
        ('GET', '/resource_providers?uuid=' + provider, '1.39', None),
        ('GET', base + '/aggregates', '1.19', None),
        ('PUT', base + '/aggregates', '1.19',
         {'aggregates': [aggregate], 'resource_provider_generation': 0}),
        ('GET', base + '/traits', '1.39', None),
        ('PUT', base + '/traits', '1.39',
         {'traits': ['HW_CPU_X86_AVX2'], 'resource_provider_generation': 0}),
        ('GET', base + '/inventories', '1.39', None),
        ('PUT', base + '/inventories', '1.39',
         {'resource_provider_generation': 0,
          'inventories': {'VCPU': {'total': 1}}}),
        ('GET', base + '/usages', '1.39', None),
        ('GET', '/traits?name=in:HW_CPU_X86_AVX2', '1.39', None),
        # The name makes the body invalid: refused before any write.
        ('POST', '/resource_providers', '1.39', {'name': 1}),
    ]


def _environ(method, path, version, body):
    path, _, query = path.partition('?')
    data = b'' if body is None else json.dumps(body).encode()
    environ = {
        'REQUEST_METHOD': method, 'PATH_INFO': path, 'QUERY_STRING': query,
        'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
        'SERVER_PROTOCOL': 'HTTP/1.1', 'SCRIPT_NAME': '',
        'REMOTE_ADDR': '127.0.0.1',
        'wsgi.version': (1, 0), 'wsgi.url_scheme': 'http',
        'wsgi.input': io.BytesIO(data), 'wsgi.errors': io.StringIO(),
        'wsgi.multithread': False, 'wsgi.multiprocess': True,
        'wsgi.run_once': False,
        'HTTP_ACCEPT': 'application/json',
        'HTTP_OPENSTACK_API_VERSION': 'placement ' + version,
        **_AUTH_HEADERS,
    }
    if data:
        environ['CONTENT_TYPE'] = 'application/json'
        environ['CONTENT_LENGTH'] = str(len(data))
    return environ


def warm(app):
    """Send ``app`` (the Falcon application, inside any authentication
    middleware) the warm-up requests; answer the (method, path, status)
    of each of the last round.  Then freeze what start-up allocated."""
    requests = _requests(str(uuid.uuid4()), str(uuid.uuid4()))
    for _ in range(ROUNDS):
        answers = []
        for method, path, version, body in requests:
            status = []
            try:
                for _chunk in app(_environ(method, path, version, body),
                                  lambda s, h, e=None: status.append(s)):
                    pass
            except Exception:
                LOG.debug('warm-up %s %s failed', method, path,
                          exc_info=True)
                status.append('error')
            answers.append((method, path, status[0] if status else None))
    gc.collect()
    gc.freeze()
    return answers
