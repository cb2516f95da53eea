"""``placement-manage``: schema and data maintenance.

    placement-manage [--config-file F] db sync
    placement-manage [--config-file F] db version
    placement-manage [--config-file F] db stamp REVISION
    placement-manage [--config-file F] db online_data_migrations
        [--max-count N]

``db sync`` also takes over a database that OpenStack Placement migrated,
and ``db stamp`` with OpenStack Placement's newest revision hands one
back (``placement.db.takeover``).
"""

import argparse
import sys

import prettytable

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync
from placement.db import takeover
from placement.objects import data_migrations

# Rows each online data migration repairs per transaction when no
# --max-count is given.
BATCH = 50


def _db(conf):
    return app_mod.make_database(conf)


def db_sync(conf, args):
    db = _db(conf)
    try:
        sync.upgrade(db)
    except takeover.CannotMigrate as error:
        print('ERROR: %s' % error, file=sys.stderr)
        return 1
    sync.sync_standard(db)
    print('Database is at revision %s' % sync.current_revision(db))
    return 0


def db_version(conf, args):
    print(sync.current_revision(_db(conf)))
    return 0


def db_stamp(conf, args):
    from alembic import command
    from alembic import util as alembic_util
    db = _db(conf)
    try:
        with db.engine.begin() as conn:
            if args.revision in takeover.UPSTREAM:
                takeover.hand_back(conn, args.revision)
            else:
                command.stamp(sync._alembic_config(conn), args.revision)
    except (takeover.CannotMigrate, alembic_util.CommandError) as error:
        print('ERROR: %s' % error, file=sys.stderr)
        return 1
    return 0


def db_online_data_migrations(conf, args):
    """Run every online data migration (``placement.objects.
    data_migrations``): in batches until nothing is left, or once with
    at most ``--max-count`` rows.  Exits 0 when nothing is left, 1 when
    a limited run repaired rows (more may be left), 2 when a migration
    failed and nothing else could be done, 127 for a bad --max-count."""
    limited = args.max_count is not None
    if limited:
        try:
            limit = int(args.max_count)
        except ValueError:
            limit = 0
        if limit < 1:
            print('Must supply a positive value for max_count')
            return 127
    else:
        limit = BATCH
        print('Running batches of %d until complete' % limit)
    db = _db(conf)
    totals = {}
    while True:
        done, failed = _migration_batch(db, conf, limit, totals)
        if limited or not done:
            break
    _print_totals(totals)
    if failed and not done:
        return 2
    return 1 if limited and done else 0


def _migration_batch(db, conf, limit, totals):
    """Run each migration on at most ``limit`` rows in all; answer (rows
    repaired, whether a migration failed)."""
    done = 0
    failed = False
    for migration in data_migrations.MIGRATIONS:
        if done >= limit:
            break
        name = migration.__name__
        try:
            found, repaired = db.write(migration, limit - done, conf)
        except Exception as error:
            print('Error attempting to run %s: %s' % (name, error))
            failed = True
            continue
        first_found, completed = totals.get(name, (found, 0))
        totals[name] = (first_found, completed + repaired)
        done += repaired
    return done, failed


def _print_totals(totals):
    table = prettytable.PrettyTable(['Migration', 'Total Found',
                                     'Completed'])
    for name, (found, completed) in totals.items():
        table.add_row([name, found, completed])
    print(table)


def build_parser():
    parser = argparse.ArgumentParser(prog='placement-manage')
    parser.add_argument('--config-file', action='append', default=[])
    parser.add_argument('--config-dir', action='append', default=[])
    categories = parser.add_subparsers(dest='category', required=True)
    db = categories.add_parser('db', help='database schema commands')
    actions = db.add_subparsers(dest='action', required=True)
    actions.add_parser('sync', help='create or upgrade the schema').\
        set_defaults(func=db_sync)
    actions.add_parser('version', help='print the schema revision').\
        set_defaults(func=db_version)
    stamp = actions.add_parser('stamp', help='record a schema revision')
    stamp.add_argument('revision')
    stamp.set_defaults(func=db_stamp)
    online = actions.add_parser(
        'online_data_migrations',
        help='repair rows older OpenStack Placement releases left')
    online.add_argument('--max-count', metavar='N',
                        help='repair at most N rows, in one batch')
    online.set_defaults(func=db_online_data_migrations)
    return parser


def main(argv=None):
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    oslo = []
    for path in args.config_file:
        oslo += ['--config-file', path]
    for path in args.config_dir:
        oslo += ['--config-dir', path]
    conf = conf_mod.load_for_command('placement-manage', oslo)
    return args.func(conf, args)


if __name__ == '__main__':
    sys.exit(main())
