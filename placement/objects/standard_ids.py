"""Ids of the standard traits and resource classes, cached per engine.

A standard row (a trait from os-traits, a class from os-resource-classes)
is written once, at schema sync or start-up, and is never renamed or
deleted, so its id can be remembered for the life of the process.  Writes
that refer to standard names then need no query and no share lock: the
lock only guards custom rows against a concurrent delete.  Custom names,
and standard names not yet in the database, are always looked up.
"""

import threading
import weakref

import sqlalchemy as sa


class StandardIds:
    """name -> id of one table's standard rows, per engine."""

    def __init__(self, table, standard_names):
        self._table = table
        self._standard = frozenset(standard_names)
        self._by_engine = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _ids(self, conn):
        engine = conn.engine
        ids = self._by_engine.get(engine)
        if ids is None:
            table = self._table
            rows = conn.execute(sa.select(table.c.name, table.c.id)).all()
            ids = {name: row_id for name, row_id in rows
                   if name in self._standard}
            with self._lock:
                self._by_engine[engine] = ids
        return ids

    def split(self, conn, names):
        """({name: id} of the standard ``names`` known, [the other names])."""
        return split_known(self._ids(conn), names)

    def known(self, conn, names):
        """{name: id} of ``names`` when every one is a standard name whose
        id this process has read already; else None.  Sends nothing to
        the database."""
        ids = self._by_engine.get(conn.engine)
        if ids is None:
            return None
        found, others = split_known(ids, names)
        return None if others else found


def split_known(known, keys):
    """({key: id} of the ``keys`` the mapping ``known`` has, [the other
    keys, in their order]): what a process remembers of rows that never
    change, and what it must still ask the database for."""
    found, rest = {}, []
    for key in keys:
        row_id = known.get(key)
        if row_id is None:
            rest.append(key)
        else:
            found[key] = row_id
    return found, rest
