"""cache versions: one counter per per-process cache (issue 17)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'cache_versions',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions')),
    )
    op.bulk_insert(table, [{'name': 'auth', 'version': 0}, {'name': 'calendar', 'version': 0},
                           {'name': 'catalog', 'version': 0}])


def downgrade() -> None:
    op.drop_table('cache_versions')
