"""Data-layer tests of resource class ids (placement/objects/
resource_class.py), numbered as OpenStack Placement numbers them, on
every backend in PLACEMENT_TEST_DBS."""

import os_resource_classes
import sqlalchemy as sa

from placement.db import tables
from placement.objects import resource_class
from tests.test_claim import write_while_held

RC = tables.resource_classes


def ids(database):
    return dict(database.read(lambda conn: conn.execute(
        sa.select(RC.c.name, RC.c.id)).all()))


def test_standard_classes_at_their_position_custom_ones_from_10000(
        database):
    assert {name: ids(database)[name]
            for name in os_resource_classes.STANDARDS} == {
        name: position for position, name in
        enumerate(os_resource_classes.STANDARDS)}
    for name in ('CUSTOM_A', 'CUSTOM_B'):
        database.write(resource_class.create, name)
    assert database.write(resource_class.ensure, 'CUSTOM_C') is True
    assert database.write(resource_class.ensure, 'CUSTOM_C') is False
    current = ids(database)
    assert [current[name] for name in ('CUSTOM_A', 'CUSTOM_B', 'CUSTOM_C')] \
        == [10000, 10001, 10002]
    # A rename keeps the id.
    database.write(resource_class.rename, 'CUSTOM_A', 'CUSTOM_Z')
    assert ids(database)['CUSTOM_Z'] == 10000


def test_a_missing_standard_class_whose_position_is_taken(database):
    """In a database numbered otherwise, a standard class whose position
    another class holds gets the first free id after the standard ones."""
    last, before = os_resource_classes.STANDARDS[-1], \
        os_resource_classes.STANDARDS[-2]
    position = len(os_resource_classes.STANDARDS) - 1

    def renumber(conn):
        conn.execute(sa.delete(RC).where(RC.c.name == last))
        conn.execute(sa.update(RC).where(RC.c.name == before)
                     .values(id=position))
    database.write(renumber)
    database.write(resource_class.sync_standard)
    current = ids(database)
    assert current[before] == position
    assert current[last] == position + 1
    assert len(current) == len(os_resource_classes.STANDARDS)


def test_concurrent_creations_get_ids_of_their_own(database):
    """A creation that computed the id a concurrent one took (and waited
    for it to commit) takes the next one."""
    outcome = write_while_held(
        database, lambda conn: resource_class.create(conn, 'CUSTOM_FIRST'),
        resource_class.create, 'CUSTOM_SECOND')
    assert isinstance(outcome, resource_class.ResourceClass), outcome
    current = ids(database)
    assert (current['CUSTOM_FIRST'], current['CUSTOM_SECOND']) == \
        (10000, 10001)
