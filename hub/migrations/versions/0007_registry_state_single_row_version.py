"""registry_state: the registry's version in one row

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registry_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_state')),
    )
    # the version counts the documents stored so far: one per certificate and revocation
    op.execute(
        "INSERT INTO registry_state (id, version) SELECT 1, "
        "(SELECT count(*) FROM certificates) + (SELECT count(*) FROM revocations)"
    )


def downgrade() -> None:
    op.drop_table('registry_state')
