"""complaints: the complainant's query code, hashed

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 14:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('query_code_hash', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('query_code_hash')
