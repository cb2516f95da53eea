"""``placement-status upgrade check [--json]``: is this deployment ready
to serve?

oslo.upgradecheck runs the checks and prints their results (a table, or
JSON with ``--json``): that the database answers at this service's
newest schema revision, then the checks OpenStack Placement makes --
providers without a root provider (a failure) and allocations whose
consumer has no record (a warning), both repaired by ``placement-manage
db online_data_migrations``, and a JSON-formatted policy file.  Exit
codes follow the OpenStack upgrade-check convention: 0 success, 1
warning, 2 failure, 255 a check that could not run.
"""

import sys

from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync
from placement.db import takeover
from placement.objects import data_migrations

Code = upgradecheck.Code
Result = upgradecheck.Result
REPAIR = 'Run "placement-manage db online_data_migrations".'


class Checks(upgradecheck.UpgradeCommands):
    def __init__(self, conf):
        self.conf = conf
        self.db = None
        # Whether the schema check found the tables the data checks read.
        self.tables_readable = False

    def _database(self):
        """The database, once reached: a server that cannot be reached
        is waited for as at start-up (``max_retries``,
        ``retry_interval``), as OpenStack Placement's check does."""
        if self.db is None:
            self.db = app_mod.make_database(self.conf)
        return self.db

    def _check_schema(self):
        try:
            current = sync.current_revision(self._database())
        except Exception as exc:  # any failure to reach the database
            return Result(Code.FAILURE, 'Cannot read the database: %s' % exc)
        known = takeover.known_revisions(sync._migrations_dir())
        reason = takeover.problem(current, known)
        if reason is not None:
            return Result(Code.FAILURE, reason)
        self.tables_readable = current is not None
        if current in takeover.COMPLETE:
            return Result(Code.FAILURE, (
                'Schema is OpenStack Placement\'s revision %s: run '
                '"placement-manage db sync" to take it over.' % current))
        head = sync.head_revision()
        if current != head:
            return Result(Code.FAILURE, (
                'Schema is at %s, newest is %s: run "placement-manage db '
                'sync".' % (current, head)))
        return Result(Code.SUCCESS)

    def _data_check(self, count, code, found):
        """The check that ``count(conn)`` rows need repairing: ``code``
        with ``found`` (formatted with the number) when some do."""
        if not self.tables_readable:
            return Result(Code.WARNING, 'Not checked: see Database Schema.')
        missing = self._database().read(count)
        if missing:
            return Result(code, '%s %s' % (found % missing, REPAIR))
        return Result(Code.SUCCESS)

    def _check_root_provider_ids(self):
        return self._data_check(
            data_migrations.missing_roots, Code.FAILURE,
            '%d resource providers have no root provider id.')

    def _check_incomplete_consumers(self):
        return self._data_check(
            data_migrations.incomplete_consumers, Code.WARNING,
            '%d consumers have allocations but no consumer record.')

    def _check_policy_json(self):
        return common_checks.check_policy_json(self, self.conf)

    _upgrade_checks = (
        ('Database Schema', _check_schema),
        ('Missing Root Provider IDs', _check_root_provider_ids),
        ('Incomplete Consumers', _check_incomplete_consumers),
        ('Policy File JSON to YAML Migration', _check_policy_json),
    )


def main(argv=None):
    conf = conf_mod.unparsed()
    return upgradecheck.main(conf, 'placement', Checks(conf),
                             sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
