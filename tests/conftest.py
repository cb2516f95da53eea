"""Shared pytest fixtures for the data-layer tests.

``database`` is a fresh, migrated ``placement.db.database.Database`` with
the standard resource classes and traits, once for every backend in
``PLACEMENT_TEST_DBS`` (see tests/databases.py).  A backend that is
named but unreachable fails its tests.
"""

import pytest

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync
from tests import databases
from tests import live_server


def make_conf(url):
    """A configuration for ``url`` with no file behind it."""
    conf = conf_mod.load([], config_files=[])
    conf.set_override('connection', url, group='placement_database')
    return conf


@pytest.fixture(params=databases.backends())
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path):
    """URL of a fresh empty database on ``backend``, dropped afterwards."""
    url = databases.fresh_url(backend, tmp_path)
    yield url
    databases.drop(url)


@pytest.fixture
def empty_database(database_url):
    """A ``Database`` on an empty (unmigrated) database."""
    db = app_mod.make_database(make_conf(database_url))
    yield db
    db.dispose()


@pytest.fixture
def database(empty_database):
    """A ``Database`` at the newest schema with the standard data."""
    sync.upgrade(empty_database)
    sync.sync_standard(empty_database)
    return empty_database


@pytest.fixture
def server(request, database_url, tmp_path):
    """(port, log path) of a real ``placement-api --workers 4`` on a fresh
    database of ``backend``; a test parametrizing it indirectly names
    the threads per worker (1, sync workers, unless it does)."""
    yield from live_server.running(database_url, tmp_path,
                                   threads=getattr(request, 'param', 1))
