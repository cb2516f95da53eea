"""Run the YAML tests in ``gabbits/`` through gabbi's pytest driver."""

import os

from gabbi import driver
# pytest collects this name; gabbi parametrizes it with every YAML test.
from gabbi.driver import test_pytest  # noqa: F401

from tests import gabbi_fixtures

GABBITS = os.path.join(os.path.dirname(__file__), '..', 'gabbits')


def pytest_generate_tests(metafunc):
    driver.py_test_generator(
        GABBITS, intercept=gabbi_fixtures.intercept,
        fixture_module=gabbi_fixtures, test_loader_name=__name__,
        metafunc=metafunc)
