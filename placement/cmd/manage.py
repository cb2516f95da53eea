"""``placement-manage``: schema and data maintenance.

    placement-manage [--config-file F] db sync
    placement-manage [--config-file F] db version
    placement-manage [--config-file F] db stamp REVISION

``db sync`` also takes over a database that OpenStack Placement migrated,
and ``db stamp`` with OpenStack Placement's newest revision hands one
back (``placement.db.takeover``).
"""

import argparse
import sys

from placement import app as app_mod
from placement import conf as conf_mod
from placement.db import sync
from placement.db import takeover


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
    db = _db(conf)
    with db.engine.begin() as conn:
        if args.revision in takeover.UPSTREAM:
            try:
                takeover.hand_back(conn, args.revision)
            except takeover.CannotMigrate as error:
                print('ERROR: %s' % error, file=sys.stderr)
                return 1
        else:
            command.stamp(sync._alembic_config(conn), args.revision)
    return 0


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
    return parser


def main(argv=None):
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    oslo = []
    for path in args.config_file:
        oslo += ['--config-file', path]
    for path in args.config_dir:
        oslo += ['--config-dir', path]
    conf = conf_mod.load(oslo)
    return args.func(conf, args)


if __name__ == '__main__':
    sys.exit(main())
