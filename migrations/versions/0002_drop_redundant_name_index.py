"""Drop resource_providers_name_idx: the unique constraint on the name
indexes it already, and every write of a provider paid for both.  A
database taken over from OpenStack Placement never had it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_INDEX = 'resource_providers_name_idx'


def upgrade():
    present = {index['name'] for index in
               sa.inspect(op.get_bind()).get_indexes('resource_providers')}
    if _INDEX in present:
        op.drop_index(_INDEX, table_name='resource_providers')
