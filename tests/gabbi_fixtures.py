"""Gabbi fixtures for the project's own YAML tests in ``gabbits/``.

Each YAML file gets a fresh database (on the backend named by
``PLACEMENT_TEST_GABBI_DB``, default sqlite), a fresh application, and
environment variables the files refer to with ``$ENVIRON``.
"""

import os
import tempfile
import uuid

from gabbi import fixture

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync
from tests import databases

# The application the current YAML file talks to (see ``intercept``).
CURRENT = {'app': None}


def intercept():
    """WSGI callable handed to gabbi; forwards to the current app."""
    def application(environ, start_response):
        return CURRENT['app'](environ, start_response)
    return application


class APIFixture(fixture.GabbiFixture):
    """A fresh service on an empty, synced database."""

    config = {}

    def start_fixture(self):
        self.tmpdir = tempfile.mkdtemp(prefix='placement-gabbi-')
        backend = os.environ.get('PLACEMENT_TEST_GABBI_DB', 'sqlite')
        self.url = databases.fresh_url(backend, self.tmpdir)
        conf_path = os.path.join(self.tmpdir, 'placement.conf')
        policy_path = os.path.join(self.tmpdir, 'policy.yaml')
        with open(policy_path, 'w') as f:
            f.write('{}\n')
        sections = {
            'placement_database': {'connection': self.url},
            'api': {'auth_strategy': 'noauth2'},
            'oslo_policy': {'enforce_new_defaults': 'False',
                            'policy_file': policy_path},
        }
        for section, values in self.config.items():
            sections.setdefault(section, {}).update(values)
        with open(conf_path, 'w') as f:
            for section, values in sections.items():
                f.write('[%s]\n' % section)
                for key, value in values.items():
                    f.write('%s = %s\n' % (key, value))
        conf = conf_mod.load(['--config-file', conf_path])
        self.db = app_mod.make_database(conf)
        sync.upgrade(self.db)
        CURRENT['app'] = app_mod.create_app(conf, self.db)
        for name in ('RP_UUID', 'RP_UUID1', 'RP_UUID2', 'PARENT_PROVIDER_UUID',
                     'ALT_PARENT_PROVIDER_UUID', 'AGGREGATE_UUID',
                     'CONSUMER_UUID', 'PROJECT_ID', 'USER_ID'):
            os.environ[name] = str(uuid.uuid4())
        os.environ['RP_NAME'] = 'rp-' + uuid.uuid4().hex
        os.environ['RP_NAME1'] = 'rp-' + uuid.uuid4().hex
        os.environ['RP_NAME2'] = 'rp-' + uuid.uuid4().hex

    def stop_fixture(self):
        CURRENT['app'] = None
        self.db.dispose()
        databases.drop(self.url)


class CORSFixture(APIFixture):
    config = {'cors': {'allowed_origin': 'http://valid.example.com',
                       'allow_headers': 'openstack-api-version'}}
