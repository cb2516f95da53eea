"""The HTTP client: one connection per simulated client, loopback only.

Every request is timed and recorded in the client's own ``Recorder``
(one per thread, so recording needs no lock).  Transport failures are
answered as a ``Response`` with status 0 instead of an exception, so a
scenario counts them like any other failure.
"""

import http.client
import ipaddress
import json
import socket
import time
import urllib.parse

from placement_bench import stats

DEFAULT_TOKEN = 'admin'


class Response:
    __slots__ = ('status', 'body', 'seconds')

    def __init__(self, status, body, seconds):
        self.status = status
        self.body = body
        self.seconds = seconds

    @property
    def ok(self):
        return 200 <= self.status < 300

    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def error_code(self):
        """``errors[0].code`` of a Placement error body, or None."""
        doc = self.json()
        try:
            return doc['errors'][0].get('code')
        except (TypeError, KeyError, IndexError, AttributeError):
            return None


def require_loopback(url):
    """Refuse any URL whose host does not resolve to loopback only."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != 'http' or not parts.hostname:
        raise ValueError('only http://<loopback>:<port> URLs: %r' % url)
    infos = socket.getaddrinfo(parts.hostname, parts.port or 80,
                               proto=socket.IPPROTO_TCP)
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split('%')[0])
        if not address.is_loopback:
            raise ValueError('%s resolves to %s, not a loopback address'
                             % (parts.hostname, address))
    return parts.hostname, parts.port or 80


class Client:
    """A simulated API client holding one HTTP connection."""

    def __init__(self, base_url, token=DEFAULT_TOKEN, timeout=60.0,
                 recorder=None):
        self.host, self.port = require_loopback(base_url)
        self.token = token
        self.timeout = timeout
        self.recorder = recorder if recorder is not None else stats.Recorder()
        self._conn = None

    def _connection(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, version=None, label=None):
        """Send one request and record it under ``label`` (default
        ``METHOD path``)."""
        headers = {'X-Auth-Token': self.token, 'Accept': 'application/json'}
        if version:
            headers['OpenStack-API-Version'] = 'placement %s' % version
        payload = None
        if body is not None:
            payload = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        start = time.perf_counter()
        status, data = self._send(method, path, payload, headers)
        resp = Response(status, data, time.perf_counter() - start)
        self.recorder.add(label or '%s %s' % (method, path), resp)
        return resp

    def _send(self, method, path, payload, headers):
        # A kept-alive connection the server has closed fails before any
        # response byte arrives: that one case is sent again, once.
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, path, body=payload, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
                if raw.will_close:
                    self.close()
                return raw.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as exc:
                self.close()
                if attempt == 1 and reused:
                    continue
                return 0, repr(exc).encode()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return 0, repr(exc).encode()
        return 0, b'unreachable'
