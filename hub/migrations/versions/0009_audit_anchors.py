"""audit anchors: each node's audit head from its signed summaries

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_anchors',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('node', sa.String(length=9), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('envelope_id', sa.String(length=36), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.Column('restore', sa.String(length=36), nullable=True),
        sa.Column('received_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('previous_entries', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchors')),
        sa.UniqueConstraint('envelope_id', name=op.f('uq_audit_anchors_envelope_id')),
    )
    op.create_index('ix_audit_anchors_node_seq', 'audit_anchors', ['node', 'seq'], unique=False)
    op.create_index('ix_audit_anchors_verdict_node', 'audit_anchors', ['verdict', 'node'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_anchors_verdict_node', table_name='audit_anchors')
    op.drop_index('ix_audit_anchors_node_seq', table_name='audit_anchors')
    op.drop_table('audit_anchors')
