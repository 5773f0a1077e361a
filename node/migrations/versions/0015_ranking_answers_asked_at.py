"""ranking answers: when the hub was last asked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ranking_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_at', schemas.runtime.database.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ranking_answers', schema=None) as batch_op:
        batch_op.drop_column('asked_at')
