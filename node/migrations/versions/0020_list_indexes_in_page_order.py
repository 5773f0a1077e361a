"""list indexes in page order: (filter, sort key, id) for the keyset pages; decision dates

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:00:00.000000

Each staff list reads a range of one index in the order its pages are read (node/listing.py):
cases by state (newest first or by deadline) and by date of receipt, complaints and
rectifications by state and due date.  (And the daily roll-up's decision dates, which a day's
refresh read by scanning every case.)  The id closes each key, so that a page's last row
is a unique place to continue from.
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

REPLACED = [
    # (table, old name, old columns, new name, new columns)
    ('cases', 'ix_cases_state_deadline', ['state', 'deadline_on'],
     'ix_cases_state_deadline_id', ['state', 'deadline_on', 'id']),
    ('cases', 'ix_cases_received_on', ['received_on'],
     'ix_cases_received_on_id', ['received_on', 'id']),
    ('complaints', 'ix_complaints_state_due_on', ['state', 'due_on'],
     'ix_complaints_state_due_on_id', ['state', 'due_on', 'id']),
    ('rectifications', 'ix_rectifications_state_due_on', ['state', 'due_on'],
     'ix_rectifications_state_due_on_id', ['state', 'due_on', 'id']),
]
ADDED = [
    ('cases', 'ix_cases_state_received_id', ['state', 'received_on', 'id']),
    ('complaints', 'ix_complaints_due_on_id', ['due_on', 'id']),
    ('rectifications', 'ix_rectifications_due_on_id', ['due_on', 'id']),
    # a day's roll-up counts deemed approvals by decision date: without it, a full scan
    ('cases', 'ix_cases_decided_on', ['decided_on']),
    # … and every other source of a day's roll-up by its time (they were scanned whole)
    ('supplement_notices', 'ix_supplement_notices_issued_at', ['issued_at']),
    ('evaluations', 'ix_evaluations_at', ['at']),
    ('rectifications', 'ix_rectifications_closed_at', ['closed_at']),
    ('complaints', 'ix_complaints_received_at', ['received_at']),
    ('complaints', 'ix_complaints_resolved_at', ['resolved_at']),
]


def upgrade() -> None:
    for table, old, _old_columns, new, columns in REPLACED:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    for table, name, columns in ADDED:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _columns in ADDED:
        op.drop_index(name, table_name=table)
    for table, old, old_columns, new, _columns in REPLACED:
        op.create_index(old, table, old_columns)
        op.drop_index(new, table_name=table)
