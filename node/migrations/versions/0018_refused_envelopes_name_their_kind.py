"""refused envelopes (incoming dead letters) name their kind and seq

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_refused', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_sync_refused_sender_seq', ['sender', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_refused', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_refused_sender_seq')
        batch_op.drop_column('seq')
        batch_op.drop_column('kind')
