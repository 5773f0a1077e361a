"""audits and commitment refusals: sampled audits of summaries, summaries refused for their commitment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audits',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('node', sa.String(length=9), nullable=False),
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('summary_envelope_id', sa.String(length=36), nullable=False),
        sa.Column('summary_seq', sa.BigInteger(), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('request_digest', sa.String(length=64), nullable=False),
        sa.Column('log_head', sa.String(length=64), nullable=False),
        sa.Column('seed', sa.String(length=64), nullable=False),
        sa.Column('sample_size', sa.Integer(), nullable=False),
        sa.Column('indexes', sa.Text(), nullable=False),
        sa.Column('opened_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('due_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('answered_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('response_envelope_id', sa.String(length=36), nullable=True),
        sa.Column('findings', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audits')),
    )
    op.create_index('ix_audits_node_opened', 'audits', ['node', 'opened_at'], unique=False)
    op.create_index(op.f('ix_audits_state'), 'audits', ['state'], unique=False)
    op.create_table(
        'commitment_refusals',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('envelope_id', sa.String(length=36), nullable=False),
        sa.Column('node', sa.String(length=9), nullable=False),
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_refusals')),
        sa.UniqueConstraint('envelope_id', name=op.f('uq_commitment_refusals_envelope_id')),
    )
    op.create_index('ix_commitment_refusals_node', 'commitment_refusals', ['node', 'at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_commitment_refusals_node', table_name='commitment_refusals')
    op.drop_table('commitment_refusals')
    op.drop_index(op.f('ix_audits_state'), table_name='audits')
    op.drop_index('ix_audits_node_opened', table_name='audits')
    op.drop_table('audits')
