"""lists read from indexes: the department's queue (/staff/department), review tasks by
department, state and case, in place of the index on department_id alone (its leading column);
the directives newest first, by direction and state (in place of the index on direction and
state alone), by direction, or all

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
    op.create_index('ix_directives_direction_state_issued', 'directives',
                    ['direction', 'state', 'issued_at', 'id'], unique=False)
    op.create_index('ix_directives_direction_issued', 'directives',
                    ['direction', 'issued_at', 'id'], unique=False)
    op.create_index('ix_directives_issued', 'directives', ['issued_at', 'id'], unique=False)
    op.drop_index('ix_directives_direction_state', table_name='directives')


def downgrade() -> None:
    op.create_index('ix_directives_direction_state', 'directives', ['direction', 'state'],
                    unique=False)
    op.drop_index('ix_directives_issued', table_name='directives')
    op.drop_index('ix_directives_direction_issued', table_name='directives')
    op.drop_index('ix_directives_direction_state_issued', table_name='directives')
    op.create_index('ix_review_tasks_department_id', 'review_tasks', ['department_id'],
                    unique=False)
    op.drop_index('ix_review_tasks_department_state_case', table_name='review_tasks')
