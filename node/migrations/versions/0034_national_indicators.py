"""national indicators: matters offered online, the call-back of a rectified bad rating

Revision ID: 0034
Revises: 0030
Create Date: 2026-12-06 20:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

import schemas.runtime.database


revision = '0034'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every matter could be applied for online before (the public guide's form took any)
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followed_up_at',
                                      schemas.runtime.database.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_column('followed_up_at')
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_column('online')
