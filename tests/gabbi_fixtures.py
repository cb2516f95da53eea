"""Gabbi fixtures for the project's own YAML tests in ``gabbits/``.

Each YAML file gets a fresh database, a fresh application, and
environment variables the files refer to with ``$ENVIRON``.  The
fixtures here run on the backend in their ``backend`` attribute;
``for_backend(name)`` gives gabbi a fixture module whose fixtures all use
that backend, which is how tests/test_gabbits.py runs every file once per
database.
"""

import inspect
import os
import sys
import tempfile
import types
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

    backend = 'sqlite'
    config = {}

    def start_fixture(self):
        self.tmpdir = tempfile.mkdtemp(prefix='placement-gabbi-')
        self.url = databases.fresh_url(self.backend, self.tmpdir)
        conf_path = databases.write_config(
            os.path.join(self.tmpdir, 'placement.conf'), self.url,
            self.config)
        conf = conf_mod.load(['--config-file', conf_path])
        self.db = app_mod.make_database(conf)
        sync.upgrade(self.db)
        CURRENT['app'] = app_mod.create_app(conf, self.db)
        for name in ('RP_UUID', 'RP_UUID1', 'RP_UUID2', 'PARENT_PROVIDER_UUID',
                     'ALT_PARENT_PROVIDER_UUID', 'AGGREGATE_UUID',
                     'CONSUMER_UUID', 'CONSUMER_UUID1', 'CONSUMER_UUID2',
                     'CONSUMER_UUID3', 'PROJECT_ID', 'PROJECT_ID1',
                     'PROJECT_ID2', 'USER_ID', 'USER_ID1', 'USER_ID2'):
            os.environ[name] = str(uuid.uuid4())
        # The same uuids written without dashes.
        for name in ('CONSUMER_UUID3', 'RP_UUID'):
            os.environ[name + '_HEX'] = uuid.UUID(os.environ[name]).hex
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


class LegacyConsumerFixture(APIFixture):
    """Consumers written before microversion 1.8 get these owners."""
    config = {'placement': {
        'incomplete_consumer_project_id': 'legacy-project',
        'incomplete_consumer_user_id': 'legacy-user'}}


class CandidateBoundFixture(APIFixture):
    """At most two allocation candidates, one anchor tree after another."""
    config = {'placement': {
        'max_allocation_candidates': 2,
        'allocation_candidates_generation_strategy': 'depth-first'}}


class CandidateSpreadFixture(APIFixture):
    """At most two allocation candidates, taken from the anchor trees in
    turn, and shuffled."""
    config = {'placement': {
        'max_allocation_candidates': 2,
        'allocation_candidates_generation_strategy': 'breadth-first',
        'randomize_allocation_candidates': True}}


def for_backend(backend):
    """A stand-in fixture module: every fixture class of this module,
    subclassed to run on ``backend``."""
    module = sys.modules[__name__]
    classes = {
        name: type(name, (cls,), {'backend': backend})
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, fixture.GabbiFixture)
        and cls.__module__ == __name__}
    return types.SimpleNamespace(**classes)
