"""Resource classes: the standard ones from os-resource-classes and custom
``CUSTOM_*`` classes.

Standard classes are written to the ``resource_classes`` table at schema
sync and at start-up, so every class has a row and an id.  Standard
classes cannot be renamed or deleted; custom ones can be created,
renamed (microversions 1.2-1.6) and deleted while no inventory or
allocation refers to them.

Ids follow OpenStack Placement's numbering, so that either service can
serve the database: a standard class's id is its position in
os-resource-classes (where a database numbered otherwise has that id
taken, the first free id after the standard ones), and custom classes
have ids from ``MIN_CUSTOM_ID`` on, which OpenStack Placement tells
them by.  Every id is given explicitly, none by the database.

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
# The first id of a custom class (OpenStack Placement takes every class
# below it for a standard one).
MIN_CUSTOM_ID = 10000
# The id the next custom class gets.
_NEXT_CUSTOM_ID = sa.select(sa.case(
    (sa.func.coalesce(sa.func.max(RC.c.id), 0) < MIN_CUSTOM_ID,
     MIN_CUSTOM_ID), else_=sa.func.max(RC.c.id) + 1)).scalar_subquery()
# Tries at creating a custom class whose id concurrent creations take.
_ID_ATTEMPTS = 10

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
    """Insert the standard classes that are missing, numbered as the
    module's docstring says."""
    rows = conn.execute(sa.select(RC.c.name, RC.c.id)).all()
    present = {name for name, _ in rows}
    taken = {class_id for _, class_id in rows}
    free = max((class_id for class_id in taken
                if class_id < MIN_CUSTOM_ID), default=-1) + 1
    missing = []
    for position, name in enumerate(STANDARDS):
        if name in present:
            continue
        class_id = position
        if class_id in taken:
            while free in taken:
                free += 1
            class_id = free
        taken.add(class_id)
        missing.append({'id': class_id, 'name': name})
    if missing:
        with sql.zero_ids_kept(conn):
            # Skipped when a concurrent start-up inserted the same rows.
            sql.insert_ignore(conn, RC, missing, ())


# Built once: building a statement costs more CPU than executing it.
_IDS_BY_NAMES = sa.select(RC.c.name, RC.c.id).where(
    RC.c.name.in_(sa.bindparam('names', expanding=True)))
_IDS_BY_NAMES_SHARED = _IDS_BY_NAMES.with_for_update(read=True)


def misnumbered(conn):
    """[(name, id)] of the classes whose id breaks the numbering the
    module's docstring describes: a standard class away from its
    position, a custom class below ``MIN_CUSTOM_ID``."""
    rows = conn.execute(sa.select(RC.c.name, RC.c.id).order_by(RC.c.id))
    return [(name, class_id) for name, class_id in rows
            if _STANDARD_ORDER.get(name, class_id) != class_id
            or (name not in _STANDARD_ORDER and class_id < MIN_CUSTOM_ID)]


def standard_ids(conn, names):
    """{name: id} of ``names`` when every one is a standard class whose id
    this process knows already, without a query (standard classes are
    never deleted, and their ids are remembered once read); else None."""
    return _STANDARD_IDS.known(conn, names)


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
    """Insert the custom class ``name`` with the next custom id; False
    when one of that name already exists (possibly committed by a
    concurrent request just now)."""
    statement = sa.insert(RC).from_select(
        ['id', 'name', 'created_at'],
        sa.select(_NEXT_CUSTOM_ID, sa.literal(name, RC.c.name.type),
                  sa.literal(sql.utcnow(), RC.c.created_at.type)))
    for _ in range(_ID_ATTEMPTS):
        try:
            with conn.begin_nested():
                conn.execute(statement)
        except sa_exc.IntegrityError:
            if _exists(conn, name):
                return False
            # A concurrent creation took the id: the next one then.
            continue
        return True
    raise errors.ConcurrentUpdateDetected(
        'Too many concurrent creations of resource classes; try again.')


def _exists(conn, name):
    return conn.execute(
        sa.select(RC.c.id).where(RC.c.name == name)).first() is not None


def create(conn, name):
    """Create the custom class ``name``; raises Exists (which OpenStack
    Placement answers without an error code)."""
    if _exists(conn, name) or not _insert(conn, name):
        raise errors.Exists(
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
    StandardResourceClass or Exists."""
    current = get_by_name(conn, name, for_update=True)
    if current.is_standard:
        raise errors.StandardResourceClass(
            'Cannot update standard resource class %s' % name)
    if new_name == name:
        return current
    if _exists(conn, new_name):
        raise errors.Exists(
            'Resource class already exists: %s' % new_name)
    try:
        with conn.begin_nested():
            conn.execute(sa.update(RC).where(RC.c.id == current.id)
                         .values(name=new_name, updated_at=sql.utcnow()))
    except sa_exc.IntegrityError:
        raise errors.Exists(
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
