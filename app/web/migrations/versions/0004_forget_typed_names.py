"""Forget what failed logins typed as a name unless it is an account: it may
be a password typed into the wrong field. Login attempts of unknown names
keep an anonymous bucket (``?``; new ones a keyed hash of two hex digits),
refused-login audit events of unknown names keep neither name nor text.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


REASONS = ("wrong name or password", "too many failed logins; try again in 15 minutes")


def upgrade() -> None:
    conn = op.get_bind()
    accounts = {name for (name,) in conn.execute(sa.text("SELECT name FROM users"))}
    conn.execute(sa.text("UPDATE login_attempts SET name = '?' WHERE name NOT IN (SELECT name FROM users)"))
    refused = conn.execute(sa.text(
        "SELECT id, user_name, detail FROM audit_events WHERE action = 'login' AND outcome = 'refused'"
    )).all()
    for event_id, user_name, detail in refused:
        reason = next((r for r in REASONS if detail.endswith(": " + r)), None)
        typed = detail[: -len(reason) - 2] if reason else detail
        if typed in accounts and (user_name is None or user_name in accounts):
            continue
        conn.execute(
            sa.text("UPDATE audit_events SET user_name = :user_name, detail = :detail WHERE id = :id"),
            {"id": event_id, "user_name": user_name if user_name in accounts else None,
             "detail": f"unknown account: {reason or 'refused'}"},
        )


def downgrade() -> None:
    pass  # what was forgotten stays forgotten
