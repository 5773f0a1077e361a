"""complaints name staff by their public staff code, not a login name

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:47:18.037396
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('staff_member_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_staff_member_id'), ['staff_member_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_complaints_staff_member_id_staff_members'), 'staff_members', ['staff_member_id'], ['id'])
    # a complaint filed against a login name before: the staff record linked to that account
    op.execute(
        "UPDATE complaints SET staff_member_id = (SELECT users.staff_member_id FROM users "
        "WHERE users.id = complaints.clerk_id) WHERE clerk_id IS NOT NULL")
    op.execute(
        "UPDATE complaints SET staff_code = (SELECT staff_members.code FROM staff_members "
        "WHERE staff_members.id = complaints.staff_member_id) "
        "WHERE staff_member_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_complaints_staff_member_id_staff_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_complaints_staff_member_id'))
        batch_op.drop_column('staff_member_id')
        batch_op.drop_column('staff_code')

