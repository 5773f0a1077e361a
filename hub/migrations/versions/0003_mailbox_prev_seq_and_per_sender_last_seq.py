"""mailbox prev_seq and per-sender last seq

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:07:30.563255
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_senders',
    sa.Column('addressee', sa.String(length=9), nullable=False),
    sa.Column('sender', sa.String(length=9), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('addressee', 'sender', name=op.f('pk_mailbox_senders'))
    )
    with op.batch_alter_table('mailbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_seq', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mailbox', schema=None) as batch_op:
        batch_op.drop_column('prev_seq')
    op.drop_table('mailbox_senders')
