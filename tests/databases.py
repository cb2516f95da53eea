"""Fresh databases for tests on SQLite, PostgreSQL and MariaDB/MySQL.

``PLACEMENT_TEST_DBS`` (comma separated, default all three:
``sqlite,postgresql,mysql``) names the backends the suite runs on.  A
backend that is named but cannot be reached makes its tests fail: it is
never skipped.  ``fresh_url(backend, tmpdir)`` creates an empty database
and returns its URL, ``drop(url)`` removes it, ``write_config`` writes a
``placement.conf`` for a database.  Server
URLs come from ``PLACEMENT_TEST_POSTGRESQL_URL`` and
``PLACEMENT_TEST_MYSQL_URL`` (defaults: the local servers, user postgres
with trust auth and root with an empty password).
"""

import os
import uuid

import sqlalchemy as sa

SERVER_URLS = {
    'postgresql': os.environ.get(
        'PLACEMENT_TEST_POSTGRESQL_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'),
    'mysql': os.environ.get(
        'PLACEMENT_TEST_MYSQL_URL',
        'mysql+pymysql://root@127.0.0.1:3306/mysql'),
}


KNOWN = ('sqlite', 'postgresql', 'mysql')


def backends(variable='PLACEMENT_TEST_DBS'):
    """The backends named by ``variable`` (default: all three)."""
    value = os.environ.get(variable) or ','.join(KNOWN)
    names = [n.strip() for n in value.split(',') if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError('%s names unknown backends %s; known: %s'
                         % (variable, ', '.join(unknown), ', '.join(KNOWN)))
    return names


def fresh_url(backend, tmpdir):
    """URL of a new empty database on ``backend``."""
    if backend == 'sqlite':
        return 'sqlite:///%s' % os.path.join(
            str(tmpdir), 'placement-%s.sqlite' % uuid.uuid4().hex[:8])
    name = 'placement_test_%s' % uuid.uuid4().hex[:12]
    server = sa.engine.make_url(SERVER_URLS[backend])
    engine = sa.create_engine(server, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.exec_driver_sql('CREATE DATABASE %s' % name)
    engine.dispose()
    url = server.set(database=name)
    if backend == 'mysql':
        url = url.update_query_dict({'charset': 'utf8mb4'})
    return url.render_as_string(hide_password=False)


def drop(url):
    url = sa.engine.make_url(url)
    backend = url.get_backend_name()
    if backend == 'sqlite':
        if url.database and os.path.exists(url.database):
            for suffix in ('', '-wal', '-shm'):
                try:
                    os.unlink(url.database + suffix)
                except FileNotFoundError:
                    pass
        return
    engine = sa.create_engine(sa.engine.make_url(SERVER_URLS[backend]),
                              isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        if backend == 'postgresql':
            conn.exec_driver_sql(
                'DROP DATABASE IF EXISTS %s WITH (FORCE)' % url.database)
        else:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS %s' % url.database)
    engine.dispose()


def write_config(path, url, extra=None):
    """Write a placement.conf at ``path`` for database ``url``: noauth2,
    deprecated policy defaults allowed and an empty policy file beside
    it; ``extra`` ({section: {option: value}}) is merged in last."""
    directory = os.path.dirname(os.path.abspath(path))
    policy_path = os.path.join(directory, 'policy.yaml')
    with open(policy_path, 'w') as f:
        f.write('# No rule overridden.\n')
    sections = {
        'placement_database': {'connection': url},
        'api': {'auth_strategy': 'noauth2'},
        'oslo_policy': {'enforce_new_defaults': 'False',
                        'policy_file': policy_path},
    }
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    with open(path, 'w') as f:
        for section, values in sections.items():
            f.write('[%s]\n' % section)
            for key, value in values.items():
                f.write('%s = %s\n' % (key, value))
    return path
