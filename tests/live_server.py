"""A real placement-api server for tests, and a small HTTP client.

``running`` syncs a fresh database and starts ``placement-api --workers 4``
on a free loopback port (the ``server`` fixture in conftest.py uses it);
``request`` sends one request on a new connection (``exchange``: the
same, in bytes).  Every wait has a deadline.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests import databases

BIN = os.path.dirname(sys.executable)
STARTUP_DEADLINE = 60
REQUEST_TIMEOUT = 60
TOKEN = 'admin'
# A microversion whose errors carry a code.
DEFAULT_VERSION = 'placement 1.23'


def exchange(port, method, path, data=None, headers=None,
             timeout=REQUEST_TIMEOUT):
    """(status, body bytes) of one request on a new connection, sending
    ``data`` (bytes, as JSON) with the test token and ``headers`` (which
    add to or replace the defaults)."""
    sent = {'x-auth-token': TOKEN, 'accept': 'application/json'}
    if data is not None:
        sent['content-type'] = 'application/json'
    sent.update(headers or {})
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def request(port, method, path, body=None, version=DEFAULT_VERSION):
    """(status, decoded JSON body or None) of one request on a new
    connection."""
    status, raw = exchange(
        port, method, path,
        None if body is None else json.dumps(body).encode(),
        {'openstack-api-version': version})
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors='replace')
    return status, decoded


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _wait_until_up(proc, port, log_path):
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if request(port, 'GET', '/')[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    with open(log_path) as log:
        pytest.fail('placement-api did not answer within %ds:\n%s'
                    % (STARTUP_DEADLINE, log.read()[-3000:]))


def _stop(proc):
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def running(database_url, tmp_path, threads=1):
    """Generator for a fixture: yields (port, log path) of a placement-api
    with 4 workers (of ``threads`` threads each: gunicorn's gthread
    workers when more than one) on a fresh, synced database, and stops
    it after."""
    config = databases.write_config(str(tmp_path / 'placement.conf'),
                                    database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    synced = subprocess.run(
        [os.path.join(BIN, 'placement-manage'), '--config-file', config,
         'db', 'sync'], capture_output=True, text=True, timeout=120, env=env)
    assert synced.returncode == 0, synced.stderr
    log_path = str(tmp_path / 'server.log')
    for _ in range(3):  # another process may take the port meanwhile
        port = _free_port()
        with open(log_path, 'w') as log:
            proc = subprocess.Popen(
                [os.path.join(BIN, 'placement-api'), '--config-file',
                 config, '--host', '127.0.0.1', '--port', str(port),
                 '--workers', '4', '--threads', str(threads)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        try:
            if _wait_until_up(proc, port, log_path):
                break
        except BaseException:
            _stop(proc)
            raise
    else:
        with open(log_path) as log:
            pytest.fail('placement-api did not start:\n%s'
                        % log.read()[-3000:])
    try:
        yield port, log_path
    finally:
        _stop(proc)
