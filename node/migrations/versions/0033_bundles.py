"""一件事 bundles: their definition in the catalog, bundle cases, parts linked

Revision ID: 0033
Revises: 0031
Create Date: 2026-12-06 20:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

from schemas.runtime.database import UTCDateTime


revision = '0033'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bundles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('published_by', sa.String(length=9), nullable=True),
        sa.Column('retired_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_table(
        'bundle_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bundle_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('matter_code', sa.String(length=64), nullable=False),
        sa.Column('form_fields', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bundle_id', 'position'),
        sa.UniqueConstraint('bundle_id', 'matter_code'),
    )
    op.create_table(
        'bundle_cases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('query_code_hash', sa.String(length=128), nullable=False),
        sa.Column('bundle_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('applicant_name', sa.String(length=100), nullable=False),
        sa.Column('applicant_id_number', sa.String(length=18), nullable=True),
        sa.Column('applicant_phone', sa.String(length=20), nullable=True),
        sa.Column('form_data', sa.Text(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('promised_days', sa.Integer(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.Column('used_days', sa.Integer(), nullable=True),
        sa.Column('notice_number', sa.String(length=40), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('notice_number'),
    )
    op.create_index('ix_bundle_cases_bundle_id', 'bundle_cases', ['bundle_id'])
    op.create_index('ix_bundle_cases_received_on', 'bundle_cases', ['received_on'])
    op.create_index('ix_bundle_cases_ended_on', 'bundle_cases', ['ended_on'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bundle_case_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_cases_bundle_case_id', ['bundle_case_id'])
        batch_op.create_foreign_key('fk_cases_bundle_case_id_bundle_cases', 'bundle_cases',
                                    ['bundle_case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_bundle_case_id_bundle_cases', type_='foreignkey')
        batch_op.drop_index('ix_cases_bundle_case_id')
        batch_op.drop_column('bundle_case_id')
    op.drop_index('ix_bundle_cases_ended_on', table_name='bundle_cases')
    op.drop_index('ix_bundle_cases_received_on', table_name='bundle_cases')
    op.drop_index('ix_bundle_cases_bundle_id', table_name='bundle_cases')
    op.drop_table('bundle_cases')
    op.drop_table('bundle_items')
    op.drop_table('bundles')
