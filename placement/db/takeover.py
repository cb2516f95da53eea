"""Databases that OpenStack Placement migrated, and taking them over.

OpenStack Placement keeps the same tables as this service, so an operator
can point this service at the database OpenStack Placement served from.
One thing differs: ``alembic_version`` holds OpenStack Placement's own
revision ids.  ``take_over`` (run by ``sync.upgrade`` before the
migrations) records a database at a revision with every table and
column this service uses (``COMPLETE``: consumer types exist from
422ece571366 on) at this service's revision of the same schema
(``SAME_SCHEMA``), and the migrations go on from there.  Earlier
revisions are refused with what to do first; so is a revision neither
project knows.

Nothing else is rewritten: rows are served as they are, and resource
classes and traits keep their ids.  This service numbers resource
classes as OpenStack Placement does (``placement.objects.resource_class``:
standard ones at their position in os-resource-classes, custom ones
from 10000), giving each id itself, so the classes either service adds
go on side by side.

``hand_back`` is the way back: it records OpenStack Placement's newest
revision for a database at a revision of this service whose tables
OpenStack Placement serves (``SERVED_BY_UPSTREAM``), so that OpenStack
Placement's own ``db sync`` starts from there again -- provided its
resource classes are numbered as OpenStack Placement numbers them, which
OpenStack Placement relies on.  Earlier releases of this service
numbered them in the order they were added; such a database is not
handed back.
"""

import sqlalchemy as sa
from alembic import migration
from alembic import script

from placement.objects import resource_class

# OpenStack Placement's revisions, oldest first.
UPSTREAM = ('b4ed3a175331', '611cd6dffd7b', 'b5c396305c25', '422ece571366',
            'a082b8bb98d0')
COMPLETE = frozenset(UPSTREAM[3:])
# This service's revision whose tables and columns those have.
SAME_SCHEMA = '0001'
# This service's revisions whose tables OpenStack Placement's newest
# revision serves.
SERVED_BY_UPSTREAM = frozenset({'0001', '0002'})


class CannotMigrate(Exception):
    """The database's revision is one ``db sync`` cannot start from."""


def problem(revision, known):
    """Why ``db sync`` cannot start from ``revision`` (``known``: this
    service's revision ids), or None when it can."""
    if revision is None or revision in known or revision in COMPLETE:
        return None
    if revision in UPSTREAM:
        return ('The database is at OpenStack Placement revision %s, older '
                'than this service can take over. First upgrade it to '
                'revision %s with a release of OpenStack Placement that '
                'has it ("placement-manage db sync" of that release, which '
                'also asks for its online data migrations when they are '
                'due), then run this command again.'
                % (revision, UPSTREAM[-1]))
    return ('The database is at schema revision %s, which neither this '
            'service nor OpenStack Placement knows. Is the configured '
            'database the right one?' % revision)


def current_revision(conn):
    """The revision alembic_version records (None without one)."""
    return migration.MigrationContext.configure(conn).get_current_revision()


def known_revisions(migrations_dir):
    return {rev.revision for rev in
            script.ScriptDirectory(migrations_dir).walk_revisions()}


def take_over(conn, migrations_dir):
    """Ready the database on ``conn`` (in a transaction) for this
    service's migrations; raises CannotMigrate.  Answers the OpenStack
    Placement revision taken over, or None."""
    revision = current_revision(conn)
    reason = problem(revision, known_revisions(migrations_dir))
    if reason is not None:
        raise CannotMigrate(reason)
    if revision not in COMPLETE:
        return None
    conn.execute(sa.text('UPDATE alembic_version SET version_num = :ours '
                         'WHERE version_num = :theirs'),
                 {'ours': SAME_SCHEMA, 'theirs': revision})
    return revision


def hand_back(conn, revision):
    """Record OpenStack Placement's ``revision`` (its newest, the only
    one with this service's indexes) for the database on ``conn``, which
    must be at a revision in ``SERVED_BY_UPSTREAM``; raises
    CannotMigrate."""
    current = current_revision(conn)
    if revision != UPSTREAM[-1] or current not in SERVED_BY_UPSTREAM:
        raise CannotMigrate(
            'Only a database at revision %s can be handed back to '
            'OpenStack Placement, as its revision %s; this one is at %s.'
            % (' or '.join(sorted(SERVED_BY_UPSTREAM)), UPSTREAM[-1],
               current))
    misnumbered = resource_class.misnumbered(conn)
    if misnumbered:
        raise CannotMigrate(
            'The resource classes of this database are not numbered as '
            'OpenStack Placement numbers them (standard classes at their '
            'position in os-resource-classes, custom classes from %d): %s. '
            'OpenStack Placement would take a custom class below %d for a '
            'standard one (and refuse to rename or delete it), and a '
            'standard class at %d or above for a custom one; it adds new '
            'standard classes at their position. It cannot be handed back.'
            % (resource_class.MIN_CUSTOM_ID, _listed(misnumbered),
               resource_class.MIN_CUSTOM_ID, resource_class.MIN_CUSTOM_ID))
    conn.execute(sa.text('UPDATE alembic_version SET version_num = :theirs'),
                 {'theirs': revision})


def _listed(misnumbered, shown=5):
    """The first ``shown`` standard and custom classes of ``misnumbered``
    with their ids, and how many more there are."""
    parts = []
    for custom in (False, True):
        some = [(name, class_id) for name, class_id in misnumbered
                if name.startswith('CUSTOM_') == custom]
        if some:
            parts.append(', '.join('%s has id %d' % item
                                   for item in some[:shown]))
            if len(some) > shown:
                parts.append('%d more %s classes' % (
                    len(some) - shown, 'custom' if custom else 'standard'))
    return '; '.join(parts)
