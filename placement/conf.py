"""Configuration options and how they are loaded.

The file format, section and option names are those of OpenStack
Placement, read with oslo.config (logging options with oslo.log's), so
an existing ``placement.conf`` works unchanged and
``OS_<SECTION>__<OPTION>`` environment variables override file values.
Options this service has no use for are still registered where
operators commonly set them, so that they are accepted silently.
"""

import logging
import os
import sys

from oslo_config import cfg
from oslo_log import log as oslo_log

DEFAULT_DATA_DIR = os.path.join(
    os.environ.get('XDG_DATA_HOME') or os.path.expanduser('~/.local/share'),
    'placement')

_OPTS = {
    None: [
        cfg.StrOpt('state_path', default=DEFAULT_DATA_DIR,
                   help='Directory holding the default SQLite database.'),
        cfg.BoolOpt('log_options', default=True,
                    help='With debug, log every option in force at '
                         'start-up (secret ones masked).'),
        # Accepted for existing configuration files; nothing here uses
        # them.
        cfg.StrOpt('pybasedir', help='Not used by this service.'),
        cfg.StrOpt('tempdir', help='Not used by this service.'),
    ],
    'placement_database': [
        cfg.StrOpt('connection', secret=True,
                   help='SQLAlchemy URL of the placement database. '
                        'Defaults to an SQLite file in state_path.'),
        cfg.BoolOpt('sync_on_startup', default=False,
                    help='Create or upgrade the schema when the API '
                         'starts.'),
        cfg.IntOpt('max_pool_size', default=5,
                   help='Connections kept open per API worker.'),
        cfg.IntOpt('max_overflow', default=10,
                   help='Extra connections allowed above the pool size.'),
        cfg.IntOpt('pool_timeout', default=30,
                   help='Seconds to wait for a pooled connection.'),
        cfg.IntOpt('connection_recycle_time', default=3600,
                   help='Seconds after which pooled connections are '
                        'replaced.'),
        cfg.IntOpt('max_retries', default=10, min=-1,
                   help='PostgreSQL and MariaDB/MySQL: how many more '
                        'times to try connecting at start-up while the '
                        'server cannot be reached (-1: until it can).'),
        cfg.IntOpt('retry_interval', default=10, min=0,
                   help='Seconds between those connection attempts.'),
        cfg.StrOpt('mysql_sql_mode', default='TRADITIONAL',
                   help='MariaDB/MySQL: the sql_mode of every session; '
                        'empty leaves the server\'s own.'),
        cfg.BoolOpt('sqlite_synchronous', default=True,
                    help='SQLite: wait for each commit to reach the '
                         'disk (synchronous = FULL); false does not '
                         'wait (OFF), and a crash of the machine can '
                         'lose or corrupt recent writes.'),
        cfg.IntOpt('connection_debug', default=0, min=0, max=100,
                   help='Log SQL statements: 50 and above at INFO, 100 '
                        'at DEBUG with the rows they return. Statements '
                        'then all go through SQLAlchemy, none prepared, '
                        'which is slower.'),
        cfg.StrOpt('slave_connection', secret=True,
                   help='Accepted for existing configuration files: '
                        'reads go to "connection", as OpenStack '
                        'Placement\'s do.'),
        cfg.BoolOpt('connection_trace', default=False,
                    help='Accepted for existing configuration files; not '
                         'used.'),
        cfg.BoolOpt('prepared_statements', default=True,
                    help='PostgreSQL: run frequent statements as '
                         'server-side prepared statements. Turn off '
                         'behind a proxy that pools connections per '
                         'transaction (PgBouncer in transaction mode).'),
        cfg.BoolOpt('multi_statements', default=True,
                    help='MariaDB/MySQL only (PyMySQL; mysqlclient sends '
                         'statements one at a time whatever this says): '
                         'open connections with the multi-statement '
                         'capability, so that a write sends, for example, '
                         'its last statement and its COMMIT in one round '
                         'trip. Turn off behind a proxy that refuses '
                         'multi-statement queries.'),
        cfg.StrOpt('connection_parameters', default='',
                   help='Extra query parameters for the connection URL.'),
    ],
    'api': [
        cfg.StrOpt('auth_strategy', default='keystone',
                   choices=['keystone', 'noauth2'],
                   help='keystone needs keystonemiddleware in front of '
                        'the application; noauth2 trusts X-Auth-Token.'),
    ],
    'placement': [
        cfg.StrOpt('incomplete_consumer_project_id',
                   default='00000000-0000-0000-0000-000000000000',
                   help='Project id recorded for consumers created '
                        'before microversion 1.8.'),
        cfg.StrOpt('incomplete_consumer_user_id',
                   default='00000000-0000-0000-0000-000000000000',
                   help='User id recorded for consumers created before '
                        'microversion 1.8.'),
        cfg.BoolOpt('randomize_allocation_candidates', default=False,
                    help='Shuffle allocation candidates before limiting.'),
        cfg.IntOpt('max_allocation_candidates', default=-1,
                   help='Upper bound on allocation candidates computed; '
                        '-1 means no bound.'),
        cfg.IntOpt('allocation_conflict_retry_count', default=10,
                   help='Accepted for existing configuration files: an '
                        'allocation write locks the providers it '
                        'changes, so it never meets the provider '
                        'generation conflict OpenStack Placement retries '
                        'on.'),
        cfg.StrOpt('allocation_candidates_generation_strategy',
                   default='depth-first',
                   choices=['depth-first', 'breadth-first'],
                   help='Order in which candidates are generated when '
                        'max_allocation_candidates applies.'),
    ],
    'cors': [
        cfg.ListOpt('allowed_origin', default=None,
                    help='Origins allowed to make CORS requests. CORS is '
                         'off unless this is set.'),
        cfg.BoolOpt('allow_credentials', default=True),
        cfg.ListOpt('expose_headers',
                    default=['openstack-api-version',
                             'x-openstack-request-id']),
        cfg.IntOpt('max_age', default=3600),
        cfg.ListOpt('allow_methods',
                    default=['GET', 'PUT', 'POST', 'DELETE', 'PATCH']),
        cfg.ListOpt('allow_headers', default=[]),
    ],
    'workarounds': [
        cfg.BoolOpt('optimize_for_wide_provider_trees', default=False,
                    help='Accepted for existing configuration files: '
                         'allocation candidates are always generated '
                         'without extending a combination of request '
                         'groups that already breaks group_policy=isolate '
                         'or a provider\'s capacity, which is what this '
                         'option turns on in OpenStack Placement.'),
    ],
    'oslo_middleware': [
        cfg.BoolOpt('enable_proxy_headers_parsing', default=False),
    ],
}


def register_opts(conf):
    for group, opts in _OPTS.items():
        conf.register_opts(opts, group=group)


def unparsed():
    """A ConfigOpts with this service's options, before any file or
    argument is read (for a command that adds options of its own)."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    # [DEFAULT] debug, log_file, log_dir, use_syslog, log_config_append...
    oslo_log.register_options(conf)
    # oslo.policy registers [oslo_policy] options itself; registering them
    # here lets every entry point see the same values.
    from oslo_policy import opts as policy_opts
    policy_opts.set_defaults(conf)
    return conf


def load(args=None, config_files=None, project='placement'):
    """Return a fresh ConfigOpts for this service.

    ``args`` are command-line arguments (``--config-file F`` and friends);
    ``config_files`` overrides the default search when given.  Environment
    variables ``OS_<SECTION>__<OPTION>`` take precedence over the files.
    """
    conf = unparsed()
    conf(args if args is not None else [], project=project,
         default_config_files=config_files, validate_default_values=True)
    if not conf.config_file:
        # No configuration file at all: a local quick-start service.  An
        # operator's file keeps OpenStack Placement's keystone default.
        conf.set_default('auth_strategy', 'noauth2', group='api')
    return conf


def load_for_command(prog, args):
    """``load`` for the command ``prog``: a configuration file that is
    missing or cannot be parsed ends the command with a one-line error
    (exit status 2), not a traceback."""
    try:
        return load(args)
    except cfg.Error as error:
        sys.stderr.write('%s: error: %s\n' % (prog, error))
        sys.exit(2)


def setup_logging(conf):
    """Logging as the configuration says (oslo.log: to stderr unless
    ``log_file``, ``log_dir``, ``use_syslog`` or ``log_config_append``
    say otherwise); with ``debug``, the options in force are logged
    (secret ones masked)."""
    oslo_log.setup(conf, 'placement')
    if conf.debug and conf.log_options:
        conf.log_opt_values(oslo_log.getLogger(__name__), logging.DEBUG)


def database_url(conf):
    """The configured database URL (or the embedded SQLite default) with
    ``connection_parameters`` appended to its query."""
    url = conf.placement_database.connection
    if not url:
        path = conf.state_path
        os.makedirs(path, exist_ok=True)
        url = 'sqlite:///%s' % os.path.join(path, 'placement.sqlite')
    extra = conf.placement_database.connection_parameters
    if extra:
        url += ('&' if '?' in url else '?') + extra.lstrip('?&')
    return url


def list_opts():
    """For oslo-config-generator style sample generation."""
    return [(group or 'DEFAULT', opts) for group, opts in _OPTS.items()]
