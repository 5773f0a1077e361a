"""sync status: the day the calendar check last warned

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_warned_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_status', schema=None) as batch_op:
        batch_op.drop_column('calendar_warned_on')
