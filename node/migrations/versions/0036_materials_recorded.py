"""cases say whether their intake recorded the materials received (even none): a window case
with nothing ticked lacks every required material; the cases taken before 0030 claim neither

Revision ID: 0036
Revises: 0032
Create Date: 2026-12-06 22:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0036'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('materials_recorded', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('materials_recorded')
