"""The signing auditor is an account: users get a full name (what a sign-off
records), sign-offs keep for whom the auditor signed apart.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_name', sa.String(length=120), nullable=True))
    with op.batch_alter_table('sign_offs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sign_offs', schema=None) as batch_op:
        batch_op.drop_column('on_behalf_of')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('full_name')
