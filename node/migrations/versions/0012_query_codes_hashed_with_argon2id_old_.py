"""query codes hashed with argon2id, old sha-256 digests kept until verified

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:37:48.149385
"""
from alembic import op
import sqlalchemy as sa
import schemas.runtime.database


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Room for Argon2id hashes.  The SHA-256 digests of existing cases stay as they are: the
    # codes behind them are unknown, so they cannot be hashed anew here.  node/cases/
    # query_codes.py accepts them and replaces each by its Argon2id hash when the applicant
    # next looks the case up with the right code.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('query_code_hash',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.String(length=128),
               existing_nullable=False)



def downgrade() -> None:
    # an Argon2id hash does not fit the old column, and its code cannot be recovered
    found = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM cases WHERE length(query_code_hash) > 64")).scalar()
    if found:
        raise RuntimeError(f"{found} case(s) hold Argon2id query codes: cannot downgrade")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('query_code_hash',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=64),
               existing_nullable=False)

