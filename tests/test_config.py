"""Configuration loading (placement/conf.py) and the sample file
etc/placement/placement.conf.sample: every option the service registers
is documented there with its real default, the sample loads, and the
defaults without any file are the quick-start ones."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from placement import conf as conf_mod

BIN = os.path.dirname(sys.executable)

SAMPLE = os.path.join(os.path.dirname(__file__), '..', 'etc', 'placement',
                      'placement.conf.sample')
# [oslo_policy] options the sample must document besides ours.
POLICY_OPTIONS = ('enforce_new_defaults', 'enforce_scope', 'policy_file')
# Documented for compatibility, not registered by this service.
IGNORED = {('oslo_policy', 'enforce_scope')}


def sample_options():
    """{(section, option): value as written} of the commented options."""
    found, section = {}, None
    with open(SAMPLE) as sample:
        for line in sample:
            header = re.match(r'^\[(\w+)\]\s*$', line)
            if header:
                section = header.group(1)
                continue
            option = re.match(r'^#(\w+) =(?: (.*))?$', line.rstrip('\n'))
            if option and section:
                found[(section, option.group(1))] = option.group(2) or ''
    return found


def written(opt, value):
    """A default as the sample writes it."""
    if value is None:
        return '<None>'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ','.join(value)
    return str(value)


def test_sample_documents_every_option_with_its_default():
    sample = sample_options()
    conf = conf_mod.load([], config_files=[])
    for group, opts in conf_mod.list_opts():
        for opt in opts:
            assert (group, opt.name) in sample, (group, opt.name)
            if opt.name == 'state_path':
                continue  # depends on the user; the sample says so
            assert sample[(group, opt.name)] == written(opt, opt.default), (
                group, opt.name)
    for name in POLICY_OPTIONS:
        assert ('oslo_policy', name) in sample
    for (group, name), value in sample.items():
        if (group, name) in IGNORED:
            continue
        registered = conf[group] if group != 'DEFAULT' else conf
        assert name in registered, (group, name)
        if group == 'oslo_policy':
            assert value == written(None, conf.oslo_policy[name]), name


def test_sample_loads_uncommented(tmp_path):
    """The sample with every option set to its documented value is a
    valid configuration (unknown options like enforce_scope ignored)."""
    lines = []
    with open(SAMPLE) as sample:
        for line in sample:
            match = re.match(r'^#(\w+ =.*)$', line)
            if match and '<None>' not in line and '~' not in line:
                line = match.group(1) + '\n'
            lines.append(line)
    path = tmp_path / 'placement.conf'
    path.write_text(''.join(lines))
    conf = conf_mod.load(['--config-file', str(path)])
    assert conf.api.auth_strategy == 'keystone'
    assert conf.placement_database.max_retries == 10
    assert conf.cors.allow_methods == ['GET', 'PUT', 'POST', 'DELETE',
                                       'PATCH']


def test_no_file_means_quick_start_defaults(tmp_path):
    conf = conf_mod.load([], config_files=[])
    assert conf.api.auth_strategy == 'noauth2'
    assert conf.state_path == conf_mod.DEFAULT_DATA_DIR
    conf.set_override('state_path', str(tmp_path / 'data'))
    assert conf_mod.database_url(conf) == 'sqlite:///%s' % (
        tmp_path / 'data' / 'placement.sqlite')
    assert (tmp_path / 'data').is_dir()


def test_a_file_keeps_keystone(tmp_path):
    path = tmp_path / 'placement.conf'
    path.write_text('[DEFAULT]\ndebug = true\n')
    conf = conf_mod.load(['--config-file', str(path)])
    assert conf.api.auth_strategy == 'keystone'
    assert conf.debug is True


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = tmp_path / 'placement.conf'
    path.write_text('[placement_database]\nconnection = sqlite:///a.db\n')
    monkeypatch.setenv('OS_PLACEMENT_DATABASE__CONNECTION',
                       'postgresql+psycopg2://u@h/placement')
    conf = conf_mod.load(['--config-file', str(path)])
    assert conf_mod.database_url(conf) == (
        'postgresql+psycopg2://u@h/placement')


@pytest.mark.parametrize('url, extra, expected', [
    ('mysql+pymysql://u@h/p', 'charset=utf8mb4',
     'mysql+pymysql://u@h/p?charset=utf8mb4'),
    ('mysql+pymysql://u@h/p?charset=utf8mb4', 'connect_timeout=5&a=b',
     'mysql+pymysql://u@h/p?charset=utf8mb4&connect_timeout=5&a=b'),
    ('postgresql://u@h/p', '', 'postgresql://u@h/p'),
], ids=['added', 'appended', 'none'])  # gabbi's plugin owns ids with ':'
def test_connection_parameters(url, extra, expected):
    conf = conf_mod.load([], config_files=[])
    conf.set_override('connection', url, group='placement_database')
    conf.set_override('connection_parameters', extra,
                      group='placement_database')
    assert conf_mod.database_url(conf) == expected


def test_gunicorn_serves_the_wsgi_module(tmp_path):
    """``gunicorn placement.wsgi:application`` with
    ``OS_PLACEMENT_CONFIG_DIR`` serves the database named there."""
    db_path = tmp_path / 'placement.sqlite'
    (tmp_path / 'placement.conf').write_text(
        '[placement_database]\nconnection = sqlite:///%s\n'
        '[api]\nauth_strategy = noauth2\n' % db_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_PLACEMENT_CONFIG_DIR'] = str(tmp_path)
    subprocess.run([os.path.join(BIN, 'placement-manage'), '--config-file',
                    str(tmp_path / 'placement.conf'), 'db', 'sync'],
                   check=True, capture_output=True, timeout=120, env=env)
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [os.path.join(BIN, 'gunicorn'), '--bind', '127.0.0.1:%d' % port,
         'placement.wsgi:application'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        start_new_session=True)
    try:
        answer = None
        deadline = time.monotonic() + 60
        while answer is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                conn = http.client.HTTPConnection('127.0.0.1', port,
                                                  timeout=10)
                conn.request('GET', '/resource_providers',
                             headers={'x-auth-token': 'admin'})
                response = conn.getresponse()
                answer = response.status, json.loads(response.read())
                conn.close()
            except OSError:
                time.sleep(0.2)
        assert answer == (200, {'resource_providers': []})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_logging_follows_oslo_log_options(tmp_path):
    """The WSGI module sets logging up from the file: with debug and
    log_file, the options in force go to that file, the database
    password masked."""
    log_file = tmp_path / 'placement.log'
    (tmp_path / 'placement.conf').write_text(
        '[DEFAULT]\ndebug = true\nlog_file = %s\n'
        '[placement_database]\nconnection = sqlite:///%s?password=hidden\n'
        'sync_on_startup = true\n[api]\nauth_strategy = noauth2\n'
        % (log_file, tmp_path / 'p.sqlite'))
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_PLACEMENT_CONFIG_DIR'] = str(tmp_path)
    done = subprocess.run([sys.executable, '-c', 'import placement.wsgi'],
                          env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    logged = log_file.read_text()
    assert 'log_file' in logged and str(log_file) in logged
    assert 'placement_database.connection' in logged
    assert 'hidden' not in logged
    assert 'hidden' not in done.stderr
