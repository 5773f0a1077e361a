"""通办 (代收代办): matters say whether another center may receive them and which center is
competent; cases record their part in a sideways forward and how the result was delivered

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 20:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tongban_scope', sa.Enum(
            'none', 'province', name='tongbanscope', native_enum=False, length=32),
            nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('competence', sa.Enum(
            'household', 'address', 'matter', name='competence', native_enum=False, length=32),
            nullable=False, server_default='matter'))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tongban_role', sa.Enum(
            'received', 'accepted', name='tongbanrole', native_enum=False, length=32),
            nullable=True))
        batch_op.add_column(sa.Column('tongban_division', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('forwarded_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('delivery_method', sa.Enum(
            'hall', 'post', name='deliverymethod', native_enum=False, length=32),
            nullable=True))
        batch_op.add_column(sa.Column('delivery_tracking', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name in ('delivery_tracking', 'delivery_method', 'forwarded_number',
                     'tongban_division', 'tongban_role'):
            batch_op.drop_column(name)
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_column('competence')
        batch_op.drop_column('tongban_scope')
