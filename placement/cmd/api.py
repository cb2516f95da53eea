"""``placement-api``: serve the API with gunicorn in the foreground.

    placement-api [--config-file F] [--host H] [--port P] [--workers N]

The schema is not changed here (use ``placement-manage db sync``); the
standard resource classes and traits are written before the workers
start, so they exist by the time the first request is answered.
"""

import argparse
import sys

from gunicorn.app import base as gunicorn_base

from placement import app as app_mod
from placement import conf as conf_mod


class _Server(gunicorn_base.BaseApplication):
    def __init__(self, application, options):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='placement-api', description='Serve the Placement API.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='placement.conf to read (repeatable).')
    parser.add_argument('--config-dir', action='append', default=[])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8778)
    parser.add_argument('--workers', type=int, default=1,
                        help='gunicorn worker processes (default 1).')
    parser.add_argument('--threads', type=int, default=1,
                        help='threads per worker (default 1).')
    return parser.parse_args(argv)


def oslo_args(args):
    result = []
    for path in args.config_file:
        result += ['--config-file', path]
    for path in args.config_dir:
        result += ['--config-dir', path]
    return result


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    conf = conf_mod.load_for_command('placement-api', oslo_args(args))
    conf_mod.setup_logging(conf)
    db = app_mod.make_database(conf)
    application = app_mod.wsgi_app(conf, db)
    # Workers open their own connections after the fork.
    db.dispose()
    options = {
        'bind': '%s:%d' % (args.host, args.port),
        'workers': args.workers,
        'threads': args.threads,
        'worker_class': 'gthread' if args.threads > 1 else 'sync',
        'graceful_timeout': 5,
        'timeout': 120,
        'accesslog': '-' if conf.debug else None,
        'control_socket_disable': True,
    }
    _Server(application, options).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
