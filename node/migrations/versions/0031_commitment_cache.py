"""commitment cache: each period's tree kept for the next build, leaves by hash, kept trees
as leaf hashes, cases by their last change

Revision ID: 0031
Revises: 0034
Create Date: 2026-12-06 20:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import schemas.runtime.database

revision = '0031'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'commitment_leaves',
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('leaf', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('period_label', 'digest', name=op.f('pk_commitment_leaves')),
    )
    op.create_table(
        'commitment_caches',
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('leaf_version', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('marker', schemas.runtime.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('root', sa.String(length=64), nullable=False),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.Column('numbers', sa.LargeBinary(), nullable=False),
        sa.Column('versions', sa.LargeBinary(), nullable=False),
        sa.Column('digests', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('period_label', name=op.f('pk_commitment_caches')),
    )
    with op.batch_alter_table('summary_commitments') as batch:
        batch.add_column(sa.Column('digests', sa.LargeBinary(), nullable=True))
        batch.alter_column('leaves', existing_type=sa.LargeBinary(), nullable=True)
    op.create_index('ix_cases_updated_at', 'cases', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_updated_at', table_name='cases')
    op.execute("DELETE FROM summary_commitments WHERE leaves IS NULL")
    with op.batch_alter_table('summary_commitments') as batch:
        batch.alter_column('leaves', existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column('digests')
    op.drop_table('commitment_caches')
    op.drop_table('commitment_leaves')
