"""Alembic environment: runs migrations on the connection placement-manage
hands over (``config.attributes['connection']``), or on the URL in the
alembic config when run by the alembic command itself."""

from alembic import context
import sqlalchemy as sa

from placement.db import tables

config = context.config
target_metadata = tables.metadata


def run():
    connection = config.attributes.get('connection')
    if connection is None:
        engine = sa.create_engine(config.get_main_option('sqlalchemy.url'))
        with engine.begin() as connection:
            _migrate(connection)
    else:
        _migrate(connection)


def _migrate(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


run()
