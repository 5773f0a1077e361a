"""material rules: each material of a matter says whether a file may stand for it, the kinds
of file and each file's size limit (null: the node's); the materials a window received on
paper at intake (case_materials)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 20:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matter_materials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('electronic_accepted', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('file_types', sa.String(length=64), nullable=False,
                                      server_default='pdf,jpg,png'))
        batch_op.add_column(sa.Column('max_file_bytes', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_matter_materials_max_file_bytes_positive'),
            'max_file_bytes IS NULL OR max_file_bytes > 0')
    op.create_table('case_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('form', sa.Enum('original', 'copy', 'original_and_copy', 'electronic', name='materialform', native_enum=False, length=32), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_materials_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_materials')),
    sa.UniqueConstraint('case_id', 'position', name=op.f('uq_case_materials_case_id_position'))
    )
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_materials_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_materials_case_id'))
    op.drop_table('case_materials')
    with op.batch_alter_table('matter_materials', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_matter_materials_max_file_bytes_positive'),
                                 type_='check')
        batch_op.drop_column('max_file_bytes')
        batch_op.drop_column('file_types')
        batch_op.drop_column('electronic_accepted')
