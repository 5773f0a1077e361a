"""the department's queue (/staff/department) read from an index: review tasks by department,
state and case, in place of the index on department_id alone (its leading column)

Revision ID: 0040
Revises: 0036
Create Date: 2026-12-07 03:00:00.000000
"""
from alembic import op


revision = '0040'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_review_tasks_department_state_case', 'review_tasks',
                    ['department_id', 'state', 'case_id'], unique=False)
    op.drop_index('ix_review_tasks_department_id', table_name='review_tasks')


def downgrade() -> None:
    op.create_index('ix_review_tasks_department_id', 'review_tasks', ['department_id'],
                    unique=False)
    op.drop_index('ix_review_tasks_department_state_case', table_name='review_tasks')
