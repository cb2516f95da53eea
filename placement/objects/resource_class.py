"""Resource classes: the standard ones from os-resource-classes and custom
``CUSTOM_*`` classes.

Standard classes are written to the ``resource_classes`` table at schema
sync and at start-up, so every class has a row and an id.
"""

import os_resource_classes
import sqlalchemy as sa

from placement import errors
from placement.db import sql
from placement.db import tables

RC = tables.resource_classes

STANDARDS = tuple(os_resource_classes.STANDARDS)


def sync_standard(conn):
    """Insert the standard classes that are missing."""
    present = set(conn.execute(sa.select(RC.c.name)).scalars())
    missing = [{'name': name} for name in STANDARDS if name not in present]
    sql.insert_ignore(conn, RC, missing, ['name'])


def ids_for_names(conn, names):
    """{name: id} for ``names``; raises ResourceClassNotFound for the
    first unknown one."""
    names = set(names)
    if not names:
        return {}
    rows = conn.execute(
        sa.select(RC.c.name, RC.c.id).where(RC.c.name.in_(names))).all()
    found = {name: rc_id for name, rc_id in rows}
    for name in sorted(names - set(found)):
        raise errors.ResourceClassNotFound(name=name)
    return found


def names_for_ids(conn, ids):
    ids = set(ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(RC.c.id, RC.c.name).where(RC.c.id.in_(ids))).all()
    return dict(rows)
