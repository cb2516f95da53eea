"""Run the YAML tests in ``gabbits/`` through gabbi's pytest driver, once
per database backend.

The backends are those in ``PLACEMENT_TEST_GABBI_DB`` when it is set,
else those in ``PLACEMENT_TEST_DBS`` (default: sqlite, postgresql and
mysql).  Test ids start with ``tests.test_gabbits.<backend>:``, so
``-k postgresql`` picks one backend.
"""

import os
import unittest

from gabbi import driver
from gabbi import reporter
# pytest collects this name; it is parametrized below with every YAML test.
from gabbi.driver import test_pytest  # noqa: F401

from tests import databases
from tests import gabbi_fixtures

GABBITS = os.path.join(os.path.dirname(__file__), '..', 'gabbits')


def gabbi_backends():
    if os.environ.get('PLACEMENT_TEST_GABBI_DB'):
        return databases.backends('PLACEMENT_TEST_GABBI_DB')
    return databases.backends()


def _tests_for(backend):
    """(id, test, result) for every YAML file, with the start_ and stop_
    entries gabbi's pytest plugin turns into per-file setup/teardown."""
    loader_name = '%s.%s' % (__name__, backend)
    suites = driver.build_tests(
        GABBITS, unittest.TestLoader(),
        intercept=gabbi_fixtures.intercept,
        fixture_module=gabbi_fixtures.for_backend(backend),
        test_loader_name=loader_name)
    result = reporter.PyTestResult()
    entries = []
    for suite in suites:
        tests = getattr(suite, '_tests', None)
        if not tests:
            continue
        name = '%s:%s' % (loader_name, tests[0].__class__.__name__)
        entries.append(('start_' + name, suite.start, result))
        for test in suite:
            entries.append(('%s:%s' % (loader_name, test.__class__.__name__),
                            test, result))
        entries.append(('stop_' + name, suite.stop, None))
    return entries


def pytest_generate_tests(metafunc):
    if metafunc.function is not test_pytest:
        return
    metafunc.config.pluginmanager.import_plugin('gabbi.pytester')
    entries = [e for backend in gabbi_backends() for e in _tests_for(backend)]
    metafunc.parametrize(
        'test, result', [(test, result) for _, test, result in entries],
        ids=[name for name, _, _ in entries])
