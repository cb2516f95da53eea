"""Traits: the standard ones from os-traits and custom ``CUSTOM_*`` traits.

Standard traits are written to the ``traits`` table at schema sync and at
start-up.
"""

import os_traits
import sqlalchemy as sa

from placement import errors
from placement.db import sql
from placement.db import tables

TRAITS = tables.traits

STANDARDS = tuple(os_traits.get_traits())


def sync_standard(conn):
    """Insert the standard traits that are missing."""
    present = set(conn.execute(sa.select(TRAITS.c.name)).scalars())
    missing = [{'name': n} for n in STANDARDS if n not in present]
    sql.insert_ignore(conn, TRAITS, missing, ['name'])


def ids_for_names(conn, names):
    """{name: id} for ``names``; raises TraitNotFound naming every unknown
    trait."""
    names = set(names)
    if not names:
        return {}
    rows = conn.execute(sa.select(TRAITS.c.name, TRAITS.c.id)
                        .where(TRAITS.c.name.in_(names))).all()
    found = dict(rows)
    missing = names - set(found)
    if missing:
        raise errors.TraitNotFound(names=', '.join(sorted(missing)))
    return found


RPT = tables.resource_provider_traits


def names_for_provider(conn, provider_id):
    return sorted(conn.execute(
        sa.select(TRAITS.c.name)
        .select_from(RPT.join(TRAITS, RPT.c.trait_id == TRAITS.c.id))
        .where(RPT.c.resource_provider_id == provider_id)).scalars())


def replace_for_provider(conn, provider_id, trait_ids):
    """Make ``trait_ids`` exactly the provider's traits."""
    current = set(conn.execute(
        sa.select(RPT.c.trait_id)
        .where(RPT.c.resource_provider_id == provider_id)).scalars())
    wanted = set(trait_ids)
    gone = current - wanted
    if gone:
        conn.execute(sa.delete(RPT).where(
            RPT.c.resource_provider_id == provider_id,
            RPT.c.trait_id.in_(gone)))
    new = wanted - current
    if new:
        now = sql.utcnow()
        conn.execute(sa.insert(RPT), [
            {'resource_provider_id': provider_id, 'trait_id': t,
             'created_at': now} for t in sorted(new)])
