"""case documents: the one-time notice (补正材料通知) recorded like the other documents

One row per notice (a case may have several), so the one-of-each-kind rule becomes a partial
unique index that leaves the notices out; the notices issued before this revision get their
rows, numbered as the notice, never reprinted.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

NOT_A_NOTICE = sa.text("kind != 'supplement'")


def upgrade() -> None:
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_documents_case_id_kind', type_='unique')
    op.create_index('uq_case_documents_case_id_kind', 'case_documents', ['case_id', 'kind'],
                    unique=True, sqlite_where=NOT_A_NOTICE, postgresql_where=NOT_A_NOTICE)
    op.execute(
        "INSERT INTO case_documents (case_id, kind, number, issued_at, issued_by, reprints, "
        "last_printed_at, last_printed_by) "
        "SELECT case_id, 'supplement', number, issued_at, issued_by, 0, issued_at, issued_by "
        "FROM supplement_notices ORDER BY id")


def downgrade() -> None:
    op.execute("DELETE FROM case_documents WHERE kind = 'supplement'")
    op.drop_index('uq_case_documents_case_id_kind', table_name='case_documents')
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_case_documents_case_id_kind', ['case_id', 'kind'])
