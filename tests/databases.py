"""Fresh databases for tests on SQLite, PostgreSQL and MariaDB/MySQL.

``PLACEMENT_TEST_DBS`` (comma separated, default ``sqlite``) names the
backends the suite runs on; ``fresh_url(backend, tmpdir)`` creates an
empty database and returns its URL, ``drop(url)`` removes it.  Server
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


def backends():
    names = os.environ.get('PLACEMENT_TEST_DBS', 'sqlite')
    return [n.strip() for n in names.split(',') if n.strip()]


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
