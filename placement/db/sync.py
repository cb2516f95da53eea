"""Schema migrations (through alembic) and the standard-data sync.

``upgrade`` brings a database to the newest schema revision (taking
over one that OpenStack Placement migrated: ``placement.db.takeover``);
``sync_standard`` writes the standard resource classes and traits that
the installed os-resource-classes and os-traits define.
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import script

from placement.db import takeover
from placement.objects import resource_class
from placement.objects import trait


def _migrations_dir():
    # Installed as the placement.migrations package; in a source checkout
    # it is the top-level migrations/ directory.
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, '..', 'migrations'),
                      os.path.join(here, '..', '..', 'migrations')):
        if os.path.exists(os.path.join(candidate, 'env.py')):
            return os.path.abspath(candidate)
    raise RuntimeError('placement migrations not found')


def _alembic_config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _migrations_dir())
    cfg.attributes['connection'] = connection
    return cfg


def upgrade(db, revision='head'):
    """Migrate to ``revision``; raises takeover.CannotMigrate when the
    database's revision is not one to start from."""
    with db.engine.begin() as conn:
        takeover.take_over(conn, _migrations_dir())
        command.upgrade(_alembic_config(conn), revision)


def head_revision():
    """The newest schema revision."""
    return script.ScriptDirectory(_migrations_dir()).get_current_head()


def current_revision(db):
    with db.engine.connect() as conn:
        return takeover.current_revision(conn)


def sync_standard(db):
    def _sync(conn):
        resource_class.sync_standard(conn)
        trait.sync_standard(conn)
    db.write(_sync)
