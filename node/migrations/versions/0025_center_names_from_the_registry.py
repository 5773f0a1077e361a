"""center names: the registry's names of this node's part of the tree

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 14:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

import schemas.runtime.database


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'center_names',
        sa.Column('code', sa.String(length=9), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('updated_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_center_names')),
    )


def downgrade() -> None:
    op.drop_table('center_names')
