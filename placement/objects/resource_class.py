"""Resource classes: the standard ones from os-resource-classes and custom
``CUSTOM_*`` classes.

Standard classes are written to the ``resource_classes`` table at schema
sync and at start-up, so every class has a row and an id.  Standard
classes cannot be renamed or deleted; custom ones can be created,
renamed (microversions 1.2-1.6) and deleted while no inventory or
allocation refers to them.

Writers that are about to refer to a class (inventory writes) resolve
its id with ``for_share=True``, and ``delete`` locks the class row before
looking for references, so a class cannot disappear under a new
inventory record.
"""

import dataclasses
import datetime
import re

import os_resource_classes
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from placement import errors
from placement.db import sql
from placement.db import tables
from placement.objects import standard_ids

RC = tables.resource_classes

STANDARDS = tuple(os_resource_classes.STANDARDS)
_STANDARD_ORDER = {name: index for index, name in enumerate(STANDARDS)}
_STANDARD_IDS = standard_ids.StandardIds(RC, STANDARDS)

# Any class name that can exist: standard and custom names are upper-case
# letters, digits and underscores, at most 255 long.  Other strings are
# answered as unknown without asking the database.
_NAME_RE = re.compile(r'[A-Z0-9_]{1,255}')


@dataclasses.dataclass
class ResourceClass:
    id: int
    name: str
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    @property
    def is_standard(self):
        return self.name in _STANDARD_ORDER


def is_standard(name):
    return name in _STANDARD_ORDER


def could_exist(name):
    """False for a string no resource class can be named."""
    return isinstance(name, str) and _NAME_RE.fullmatch(name) is not None


def sync_standard(conn):
    """Insert the standard classes that are missing."""
    present = set(conn.execute(sa.select(RC.c.name)).scalars())
    missing = [{'name': name} for name in STANDARDS if name not in present]
    sql.insert_ignore(conn, RC, missing, ['name'])


# Built once: building a statement costs more CPU than executing it.
_IDS_BY_NAMES = sa.select(RC.c.name, RC.c.id).where(
    RC.c.name.in_(sa.bindparam('names', expanding=True)))
_IDS_BY_NAMES_SHARED = _IDS_BY_NAMES.with_for_update(read=True)


def standard_ids(conn, names):
    """({name: id} of the standard classes among ``names``, [the other
    names]), without a query: None when the ids of the standard classes
    are not read yet (standard classes are never deleted, and their ids
    are remembered once read)."""
    return _STANDARD_IDS.split(conn, names, query=False)


def ids_for_names(conn, names, for_share=False):
    """{name: id} for ``names``; raises ResourceClassNotFound for the
    first unknown one.  ``for_share`` holds a shared lock on the rows
    until the transaction ends (the class cannot be deleted meanwhile)."""
    names = set(names)
    if not names:
        return {}
    for name in sorted(names):
        if not could_exist(name):
            raise errors.ResourceClassNotFound(name=name)
    found, rest = _STANDARD_IDS.split(conn, names)
    if rest:
        query = _IDS_BY_NAMES_SHARED if for_share else _IDS_BY_NAMES
        found.update(sql.execute(conn, query,
                                 {'names': sorted(rest)}).all())
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


def _from_row(row):
    return ResourceClass(**row._mapping)


def _columns():
    return sa.select(RC.c.id, RC.c.name, RC.c.created_at, RC.c.updated_at)


def list_all(conn):
    """Every class: the standard ones in os-resource-classes order, then
    the custom ones in creation order."""
    classes = [_from_row(r) for r in conn.execute(_columns()).all()]
    return sorted(classes, key=lambda rc: (
        _STANDARD_ORDER.get(rc.name, len(STANDARDS)), rc.id))


def get_by_name(conn, name, for_update=False):
    """The class called ``name``; raises ResourceClassNotFound."""
    row = None
    if could_exist(name):
        query = _columns().where(RC.c.name == name)
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).first()
    if row is None:
        raise errors.ResourceClassNotFound(name=name)
    return _from_row(row)


def _insert(conn, name):
    """Insert a class; False when one of that name already exists
    (possibly committed by a concurrent request just now)."""
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(RC).values(name=name,
                                              created_at=sql.utcnow()))
    except sa_exc.IntegrityError:
        return False
    return True


def _exists(conn, name):
    return conn.execute(
        sa.select(RC.c.id).where(RC.c.name == name)).first() is not None


def create(conn, name):
    """Create the custom class ``name``; raises DuplicateName."""
    if _exists(conn, name) or not _insert(conn, name):
        raise errors.DuplicateName(
            'Conflicting resource class already exists: %s' % name)
    return get_by_name(conn, name)


def ensure(conn, name):
    """Create the custom class ``name`` unless it exists; True when this
    call created it."""
    if _exists(conn, name):
        return False
    return _insert(conn, name)


def rename(conn, name, new_name):
    """Rename the custom class ``name``; raises ResourceClassNotFound,
    StandardResourceClass or DuplicateName."""
    current = get_by_name(conn, name, for_update=True)
    if current.is_standard:
        raise errors.StandardResourceClass(
            'Cannot update standard resource class %s' % name)
    if new_name == name:
        return current
    if _exists(conn, new_name):
        raise errors.DuplicateName(
            'Resource class already exists: %s' % new_name)
    try:
        with conn.begin_nested():
            conn.execute(sa.update(RC).where(RC.c.id == current.id)
                         .values(name=new_name, updated_at=sql.utcnow()))
    except sa_exc.IntegrityError:
        raise errors.DuplicateName(
            'Resource class already exists: %s' % new_name)
    return get_by_name(conn, new_name)


def delete(conn, name):
    """Delete the custom class ``name``; raises ResourceClassNotFound,
    StandardResourceClass or ResourceClassInUse."""
    current = get_by_name(conn, name, for_update=True)
    if current.is_standard:
        raise errors.StandardResourceClass(
            'Cannot delete standard resource class %s.' % name)
    for table, where in ((tables.inventories, 'inventory'),
                         (tables.allocations, 'allocations')):
        if conn.execute(sa.select(table.c.id).where(
                table.c.resource_class_id == current.id).limit(1)).first():
            raise errors.ResourceClassInUse(resource_class=name, where=where)
    conn.execute(sa.delete(RC).where(RC.c.id == current.id))
