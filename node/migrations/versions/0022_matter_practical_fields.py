"""matters: the guide's practical fields (办理地点, 办公时间, 咨询电话, 监督投诉电话)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 14:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

FIELDS = ('service_address', 'office_hours', 'enquiry_phone', 'complaint_phone')


def upgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        for name in FIELDS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        for name in reversed(FIELDS):
            batch_op.drop_column(name)
