"""Letters written, once: the ``generated_letters`` table and the audit
event of each, shared by the page (``app.web.letters``) and the command line
(``isu-ledger letters``). No Flask here: the caller gives the session and
says who acts.

A letter already written for its kind and key (a receipt, a pledge) is not
written again unless asked (``again``): the caller skips it and says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.web.db import AuditEvent, GeneratedLetter

ACTION = "letter.generate"


def written(session: Session, kind: str, keys: Iterable[str] | None = None, year: int | None = None) -> dict[str, GeneratedLetter]:
    """The latest letter written per key of ``kind`` (for ``keys``, or for work-plan ``year``)."""
    query = select(GeneratedLetter).where(GeneratedLetter.kind == kind)
    if keys is not None:
        query = query.where(GeneratedLetter.key.in_(list(keys)))
    if year is not None:
        query = query.where(GeneratedLetter.wp_year == year)
    latest: dict[str, GeneratedLetter] = {}
    for row in session.scalars(query.order_by(GeneratedLetter.id)):
        latest[row.key] = row
    return latest


def audit_detail(rendered, filename: str) -> str:
    letter = rendered.letter
    return (f"{letter.kind} {letter.key} {letter.state_party} {letter.wp_year} {letter.language} "
            f"sha256 {rendered.sha256}: {filename}")


def keep(session: Session, rendered, *, user_name: str | None, role: str | None = None, ip: str | None = None,
         commit: str | None = None, audit: bool = True) -> GeneratedLetter:
    """Store a written letter and (``audit``) its audit event; the caller commits.
    The page records its audit event through ``app.web.audit.record`` instead."""
    letter = rendered.letter
    row = GeneratedLetter(kind=letter.kind, key=letter.key[:200], wp_year=letter.wp_year, state_party=letter.state_party,
                          language=letter.language, filename=rendered.filename, sha256=rendered.sha256,
                          content=rendered.pdf, user_name=user_name[:80] if user_name else None, commit=commit)
    session.add(row)
    if audit:
        session.add(AuditEvent(user_name=row.user_name, role=role, action=ACTION, outcome="ok",
                               detail=audit_detail(rendered, rendered.filename)[:4000], ip=ip, commit=commit))
    return row


def get(session: Session, letter_id: int) -> GeneratedLetter | None:
    return session.get(GeneratedLetter, letter_id)
