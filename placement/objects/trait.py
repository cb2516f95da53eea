"""Traits: the standard ones from os-traits and custom ``CUSTOM_*`` traits,
and which providers have which traits.

Standard traits are written to the ``traits`` table at schema sync and at
start-up.  Names are compared exactly (case and all) on every backend:
rows are fetched with SQL and matched again in Python, because MySQL's
default collation compares without case.
"""

import os_traits
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from placement import errors
from placement.db import sql
from placement.db import tables
from placement.objects import standard_ids

TRAITS = tables.traits
RPT = tables.resource_provider_traits

STANDARDS = tuple(os_traits.get_traits())
CUSTOM_PREFIX = 'CUSTOM_'
_STANDARD_IDS = standard_ids.StandardIds(TRAITS, STANDARDS)

# Statements of the hot paths, built once (building one costs more CPU
# than executing it).
_IDS_BY_NAMES = sa.select(TRAITS.c.name, TRAITS.c.id).where(
    TRAITS.c.name.in_(sa.bindparam('names', expanding=True)))
_IDS_FOR_PROVIDER = sa.select(RPT.c.trait_id).where(
    RPT.c.resource_provider_id == sa.bindparam('provider_id'))
_REMOVE_FROM_PROVIDER = sa.delete(RPT).where(
    RPT.c.resource_provider_id == sa.bindparam('provider_id'),
    RPT.c.trait_id.in_(sa.bindparam('trait_ids', expanding=True)))
# inline: no primary key read back (it can travel with the COMMIT).
_ADD_TO_PROVIDER = sa.insert(RPT).inline()


def _replace_postgresql():
    """PostgreSQL: one statement removing the provider's links to the
    traits ``gone`` and adding links to ``new`` (parameters: array
    literals of ids), so that it can travel with the COMMIT."""
    def ids(name):
        return sa.cast(sa.bindparam(name), postgresql.ARRAY(sa.Integer))
    provider_id = sa.bindparam('provider_id', type_=sa.Integer)
    removed = sa.delete(RPT).where(
        RPT.c.resource_provider_id == provider_id,
        RPT.c.trait_id == sa.any_(ids('gone'))).cte('removed')
    return sa.insert(RPT).from_select(
        ['trait_id', 'resource_provider_id', 'created_at'],
        sa.select(sa.func.unnest(ids('new')), provider_id,
                  sa.bindparam('now', type_=sa.DateTime))).add_cte(removed)


_REPLACE_POSTGRESQL = _replace_postgresql()


def sync_standard(conn):
    """Insert the standard traits that are missing."""
    present = set(conn.execute(sa.select(TRAITS.c.name)).scalars())
    missing = [{'name': n} for n in STANDARDS if n not in present]
    sql.insert_ignore(conn, TRAITS, missing, ['name'])


def is_custom(name):
    return name.startswith(CUSTOM_PREFIX)


def storable(name):
    """False for strings no trait can be named (NUL, lone surrogates):
    they are never sent to the database, which would reject them."""
    if '\x00' in name:
        return False
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def find_ids(conn, names):
    """{name: id} of the traits among ``names`` that exist."""
    found, names = _STANDARD_IDS.split(
        conn, {n for n in names if storable(n)})
    if names:
        found.update((name, trait_id) for name, trait_id in sql.execute(
            conn, _IDS_BY_NAMES, {'names': sorted(names)}) if name in names)
    return found


def standard_ids(conn, names):
    """{name: id} of ``names`` when every one is a standard trait whose
    id this process knows already (such a trait is never deleted: a write
    naming it needs no lookup and no lock); else None.  Sends nothing to
    the database."""
    return _STANDARD_IDS.known(conn, names)


def ids_for_names(conn, names):
    """{name: id} for ``names``; raises TraitNotFound naming every unknown
    trait."""
    found = find_ids(conn, names)
    missing = set(names) - set(found)
    if missing:
        raise errors.TraitNotFound(names=', '.join(sorted(missing)))
    return found


def get_by_name(conn, name, lock=False):
    """The trait row (id, name, created_at, updated_at) named ``name``;
    raises TraitNotFound."""
    row = None
    if storable(name):
        query = sa.select(TRAITS.c.id, TRAITS.c.name, TRAITS.c.created_at,
                          TRAITS.c.updated_at).where(TRAITS.c.name == name)
        if lock:
            query = query.with_for_update()
        row = next((r for r in conn.execute(query) if r.name == name), None)
    if row is None:
        raise errors.TraitNotFound(names=name)
    return row


def list_traits(conn, names=None, prefix=None, associated=None):
    """Trait rows (name, created_at, updated_at) ordered by name.

    ``names`` keeps only those names, ``prefix`` only names starting with
    it; ``associated`` True keeps traits some provider has, False those no
    provider has.
    """
    query = sa.select(TRAITS.c.name, TRAITS.c.created_at,
                      TRAITS.c.updated_at)
    if names is not None:
        names = {n for n in names if storable(n)}
        if not names:
            return []
        query = query.where(TRAITS.c.name.in_(names))
    if prefix:
        if not storable(prefix):
            return []
        query = query.where(TRAITS.c.name.startswith(prefix, autoescape=True))
    if associated is not None:
        used = sa.select(RPT.c.trait_id).distinct()
        query = query.where(TRAITS.c.id.in_(used) if associated
                            else TRAITS.c.id.not_in(used))
    rows = conn.execute(query.order_by(TRAITS.c.name)).all()
    return [r for r in rows
            if (names is None or r.name in names)
            and (not prefix or r.name.startswith(prefix))]


def ensure_custom(conn, name):
    """Create the custom trait ``name``; True if it was created, False if
    it already existed (also when a concurrent request created it)."""
    if find_ids(conn, [name]):
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(TRAITS).values(
                name=name, created_at=sql.utcnow()))
    except sa_exc.IntegrityError:
        return False
    return True


def delete_custom(conn, name):
    """Delete the custom trait ``name``.

    Raises TraitNotFound, InvalidInput for a standard trait and InUse when
    a provider has it.
    """
    row = get_by_name(conn, name, lock=True)
    if not is_custom(row.name):
        raise errors.InvalidInput('Cannot delete standard trait %s.' % name)
    if conn.execute(sa.select(RPT.c.resource_provider_id)
                    .where(RPT.c.trait_id == row.id).limit(1)).first():
        raise errors.InUse(
            'The trait %s is in use by a resource provider.' % name)
    conn.execute(sa.delete(TRAITS).where(TRAITS.c.id == row.id))


def ids_for_provider(conn, provider_id):
    return set(sql.execute(
        conn, _IDS_FOR_PROVIDER, {'provider_id': provider_id}).scalars())


def replace_for_provider(conn, provider_id, trait_ids, current=None,
                         last=False):
    """Make ``trait_ids`` exactly the provider's traits.  ``current`` is
    the provider's trait ids when the caller has just read them (under
    the provider's row lock); ``last``: this is the transaction's last
    work (``sql.execute``)."""
    if current is None:
        current = ids_for_provider(conn, provider_id)
    wanted = set(trait_ids)
    gone = current - wanted
    new = wanted - current
    removal = None
    if gone and new and conn.dialect.name == 'postgresql':
        sql.execute(conn, _REPLACE_POSTGRESQL, {
            'provider_id': provider_id, 'now': sql.utcnow(),
            'gone': sql.integer_array_literal(gone),
            'new': sql.integer_array_literal(new)}, last=last)
        return
    if gone and new and sql.sends_together(conn):
        # Removed in the round trip that adds.
        removal = sql.unlinking(RPT.c.trait_id, provider_id, gone)
    elif gone:
        sql.execute(conn, _REMOVE_FROM_PROVIDER, {
            'provider_id': provider_id, 'trait_ids': sorted(gone)},
            last=last and not new)
    if new:
        now = sql.utcnow()
        sql.execute(conn, _ADD_TO_PROVIDER, [
            {'resource_provider_id': provider_id, 'trait_id': t,
             'created_at': now} for t in sorted(new)], last=last,
            then=removal)
