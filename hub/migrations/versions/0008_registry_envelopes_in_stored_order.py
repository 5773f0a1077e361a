"""registry_envelopes: every accepted cert and revoke envelope, by position

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registry_envelopes',
        sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('envelope_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('position', name=op.f('pk_registry_envelopes')),
        sa.UniqueConstraint('envelope_id', name=op.f('uq_registry_envelopes_envelope_id')),
    )
    # the envelopes logged before, in the order the hub received them
    op.execute(
        "INSERT INTO registry_envelopes (envelope_id, kind) "
        "SELECT id, kind FROM envelope_log WHERE kind IN ('cert', 'revoke') "
        "ORDER BY received_at, id"
    )


def downgrade() -> None:
    op.drop_table('registry_envelopes')
