"""the forwarded cases' counts read from indexes: the cases from below still open here (the
staff navigation's badge on every page, the clerk's home) and the cases sent up whose
decision came back (the clerk's home), by state and the column that marks them

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 08:00:00.000000
"""
from alembic import op


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_state_received_from', 'cases', ['state', 'received_from'],
                    unique=False)
    op.create_index('ix_cases_state_forwarded_to', 'cases', ['state', 'forwarded_to'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_state_forwarded_to', table_name='cases')
    op.drop_index('ix_cases_state_received_from', table_name='cases')
