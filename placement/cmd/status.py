"""``placement-status upgrade check``: is this deployment ready to serve?

Checks that the database answers and that its schema is at the newest
revision.  Exit codes follow the OpenStack upgrade-check convention:
0 success, 1 warning, 2 failure.
"""

import argparse
import sys

from alembic import script

from placement import conf as conf_mod
from placement.db import engine as db_engine
from placement.db import sync
from placement.db import takeover

SUCCESS, WARNING, FAILURE = 0, 1, 2


def check_schema(conf):
    db = db_engine.Database(conf_mod.database_url(conf), conf)
    try:
        current = sync.current_revision(db)
    except Exception as exc:  # any failure to reach the database
        return FAILURE, 'Cannot read the database: %s' % exc
    head = script.ScriptDirectory(sync._migrations_dir()).get_current_head()
    reason = takeover.problem(
        current, takeover.known_revisions(sync._migrations_dir()))
    if reason is not None:
        return FAILURE, reason
    if current in takeover.COMPLETE:
        return FAILURE, ('Schema is OpenStack Placement\'s revision %s: '
                         'run "placement-manage db sync" to take it over.'
                         % current)
    if current != head:
        return FAILURE, ('Schema is at %s, newest is %s: run '
                         '"placement-manage db sync".' % (current, head))
    return SUCCESS, 'Schema is at the newest revision %s.' % head


CHECKS = [('Database schema', check_schema)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='placement-status')
    parser.add_argument('--config-file', action='append', default=[])
    commands = parser.add_subparsers(dest='category', required=True)
    upgrade = commands.add_parser('upgrade')
    upgrade.add_subparsers(dest='action', required=True).add_parser('check')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    oslo = []
    for path in args.config_file:
        oslo += ['--config-file', path]
    conf = conf_mod.load(oslo)
    worst = SUCCESS
    for name, check in CHECKS:
        code, detail = check(conf)
        worst = max(worst, code)
        print('Check: %s\n  Result: %s\n  Details: %s'
              % (name, ('Success', 'Warning', 'Failure')[code], detail))
    return worst


if __name__ == '__main__':
    sys.exit(main())
