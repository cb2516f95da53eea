"""Databases that OpenStack Placement migrated, and taking them over.

OpenStack Placement keeps the same tables as this service, so an operator
can point this service at the database OpenStack Placement served from.
Two things differ, and ``take_over`` (run by ``sync.upgrade`` before the
migrations) settles both:

- ``alembic_version`` holds OpenStack Placement's own revision ids.  A
  database at a revision with every table and column this service uses
  (``COMPLETE``: consumer types exist from 422ece571366 on) is recorded
  at this service's revision of the same schema (``SAME_SCHEMA``), and
  the migrations go on from there.  Earlier revisions are refused with
  what to do first; so is a revision neither project knows.
- OpenStack Placement writes the ids of resource classes itself (the
  standard ones from 0, custom ones from 10000).  On PostgreSQL that
  leaves the table's id sequence behind the ids in use, and the next
  class this service creates would collide; the sequence is moved past
  them.  (MariaDB/MySQL and SQLite move on by themselves.)

Nothing else is rewritten: standard classes and traits keep their ids
(this service reads every id from the tables), and the rows are served
as they are.

``hand_back`` is the way back: it records OpenStack Placement's newest
revision for a database at a revision of this service whose tables
OpenStack Placement serves (``SERVED_BY_UPSTREAM``), so that OpenStack
Placement's own ``db sync`` starts from there again.
"""

import sqlalchemy as sa
from alembic import migration
from alembic import script

# OpenStack Placement's revisions, oldest first.
UPSTREAM = ('b4ed3a175331', '611cd6dffd7b', 'b5c396305c25', '422ece571366',
            'a082b8bb98d0')
COMPLETE = frozenset(UPSTREAM[3:])
# This service's revision whose tables and columns those have.
SAME_SCHEMA = '0001'
# This service's revisions whose tables OpenStack Placement's newest
# revision serves.
SERVED_BY_UPSTREAM = frozenset({'0001', '0002'})
# Tables into which OpenStack Placement writes ids itself.
_EXPLICIT_IDS = ('resource_classes',)


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


def known_revisions(migrations_dir):
    return {rev.revision for rev in
            script.ScriptDirectory(migrations_dir).walk_revisions()}


def take_over(conn, migrations_dir):
    """Ready the database on ``conn`` (in a transaction) for this
    service's migrations; raises CannotMigrate.  Answers the OpenStack
    Placement revision taken over, or None."""
    revision = migration.MigrationContext.configure(
        conn).get_current_revision()
    reason = problem(revision, known_revisions(migrations_dir))
    if reason is not None:
        raise CannotMigrate(reason)
    if revision not in COMPLETE:
        return None
    if conn.dialect.name == 'postgresql':
        for table in _EXPLICIT_IDS:
            _move_sequence_past_ids(conn, table)
    conn.execute(sa.text('UPDATE alembic_version SET version_num = :ours '
                         'WHERE version_num = :theirs'),
                 {'ours': SAME_SCHEMA, 'theirs': revision})
    return revision


def _move_sequence_past_ids(conn, table):
    """PostgreSQL: the next id ``table``'s sequence gives is above every
    id in the table."""
    conn.execute(sa.text(
        'SELECT setval(pg_get_serial_sequence(:table, \'id\'), '
        'greatest(max(id), 1), max(id) IS NOT NULL) FROM %s' % table),
        {'table': table})


def hand_back(conn, revision):
    """Record OpenStack Placement's ``revision`` (its newest, the only
    one with this service's indexes) for the database on ``conn``, which
    must be at a revision in ``SERVED_BY_UPSTREAM``; raises
    CannotMigrate."""
    current = migration.MigrationContext.configure(
        conn).get_current_revision()
    if revision != UPSTREAM[-1] or current not in SERVED_BY_UPSTREAM:
        raise CannotMigrate(
            'Only a database at revision %s can be handed back to '
            'OpenStack Placement, as its revision %s; this one is at %s.'
            % (' or '.join(sorted(SERVED_BY_UPSTREAM)), UPSTREAM[-1],
               current))
    conn.execute(sa.text('UPDATE alembic_version SET version_num = :theirs'),
                 {'theirs': revision})
