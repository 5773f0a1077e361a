"""complaints travel: a complaint against a case decided at another center is sent there

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 17:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_to', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('received_from', sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('received_from')
        batch_op.drop_column('sent_to')
