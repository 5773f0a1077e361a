"""case search: indexes for the applicant's name and phone and for the steps' actors

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 15:25:00.000000
"""
from alembic import op


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_applicant_name', 'cases',
                    ['applicant_name', 'received_on', 'id'], unique=False)
    op.create_index('ix_cases_applicant_phone', 'cases',
                    ['applicant_phone', 'received_on', 'id'], unique=False)
    op.create_index('ix_case_events_actor', 'case_events', ['actor', 'case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_events_actor', table_name='case_events')
    op.drop_index('ix_cases_applicant_phone', table_name='cases')
    op.drop_index('ix_cases_applicant_name', table_name='cases')
