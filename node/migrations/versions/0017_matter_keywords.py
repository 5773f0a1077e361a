"""matters: keywords for the service guide's search

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_column('keywords')
