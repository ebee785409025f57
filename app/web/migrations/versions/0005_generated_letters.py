"""Letters to States (acknowledgements of receipts, reminders of overdue
pledges), each kept as written with its SHA-256.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'generated_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('wp_year', sa.Integer(), nullable=False),
        sa.Column('state_party', sa.String(length=8), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('user_name', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('commit', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_generated_letters_kind_key', 'generated_letters', ['kind', 'key'])
    op.create_index(op.f('ix_generated_letters_wp_year'), 'generated_letters', ['wp_year'])
    op.create_index(op.f('ix_generated_letters_created_at'), 'generated_letters', ['created_at'])


def downgrade() -> None:
    op.drop_table('generated_letters')
