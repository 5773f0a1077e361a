"""case documents: the printed documents of a case, numbered, with their reprints

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('receipt', 'acceptance', 'refusal', 'grant', 'denial', 'service_receipt', name='documentkind', native_enum=False, length=32), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issued_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('reprints', sa.Integer(), nullable=False),
    sa.Column('last_printed_at', schemas.runtime.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_printed_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_documents_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_documents')),
    sa.UniqueConstraint('case_id', 'kind', name=op.f('uq_case_documents_case_id_kind')),
    sa.UniqueConstraint('number', name=op.f('uq_case_documents_number'))
    )
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_documents_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_documents_case_id'))
    op.drop_table('case_documents')
