"""summary commitments: the leaves each signed summary committed to, and the salt key

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 17:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

import schemas.runtime.database


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'summary_commitments',
        sa.Column('envelope_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('root', sa.String(length=64), nullable=False),
        sa.Column('leaves', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('envelope_id', name=op.f('pk_summary_commitments')),
    )
    op.create_index(op.f('ix_summary_commitments_seq'), 'summary_commitments', ['seq'],
                    unique=False)
    op.create_table(
        'commitment_salt_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_salt_key')),
    )


def downgrade() -> None:
    op.drop_table('commitment_salt_key')
    op.drop_index(op.f('ix_summary_commitments_seq'), table_name='summary_commitments')
    op.drop_table('summary_commitments')
