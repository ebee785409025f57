"""Import batches whose request died: a server stopped (or a worker was
killed) between claiming a batch and recording the outcome leaves it
``confirming`` or ``undoing`` for ever, with nobody able to book, discard
or undo it.

The ledger's git history says what happened, so nothing is guessed: a
confirm's commit ends its subject with "(web batch N)", an undo's subject
names the commit it undoes. A batch claimed longer ago than any request
lives is set to what the books show - booked (with that commit) or failed
(nothing was booked; the uploads are deleted), undone or back to booked -
and the audit log says so.
"""

from __future__ import annotations

import datetime
import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.web import upload_files
from app.web.db import ImportBatch, utcnow
from app.web.import_batches import transition
from ledger.store.gitrepo import GitError

log = logging.getLogger(__name__)

# Longer than any request lives: gunicorn replaces a silent worker after
# 120 s (app.web.serving), and a booking takes seconds.
STUCK_AFTER = datetime.timedelta(minutes=5)

WEB_BATCH = "web batch {}"  # the label a web confirm gives its ledger commit


def stuck(session: Session, now: datetime.datetime | None = None) -> list[ImportBatch]:
    """Batches claimed (to book or to undo) longer than STUCK_AFTER ago; a
    claim with no time was made before the time was kept, so it is old."""
    before = (now or utcnow()) - STUCK_AFTER
    return list(session.scalars(
        select(ImportBatch)
        .where(ImportBatch.status.in_(("confirming", "undoing")),
               or_(ImportBatch.claimed_at.is_(None), ImportBatch.claimed_at < before))
        .order_by(ImportBatch.id)
    ))


def recover(session: Session, ledger_dir) -> list[tuple[ImportBatch, str]]:
    """Settle every stuck batch from the ledger's history; (batch, what was
    found) for each one settled. Each change is a conditional ``transition``:
    a batch another request settles meanwhile is left to it."""
    settled = []
    for batch in stuck(session):
        try:
            found = _settle(session, ledger_dir, batch)
        except GitError as exc:  # the preview's commit is not in these books (restored from elsewhere?)
            log.warning("import batch %s is %s and cannot be settled from the ledger's history: %s", batch.id, batch.status, exc)
            continue
        if found:
            session.refresh(batch)
            settled.append((batch, found))
    return settled


def _settle(session: Session, ledger_dir, batch: ImportBatch) -> str | None:
    from importers.import_undo import committed_as, undone_by
    from importers.importing import import_action

    now = utcnow()
    if batch.status == "undoing":
        undo_commit = undone_by(ledger_dir, batch.commit) if batch.commit else None
        if undo_commit:
            if transition(session, batch.id, "undoing", "undone", undo_commit=undo_commit, undone_at=now):
                return f"its undo was committed ({undo_commit[:12]}) but not recorded: marked undone"
            return None
        if transition(session, batch.id, "undoing", "booked"):
            return "its undo was interrupted before anything was written: still booked"
        return None
    subject = import_action([f["name"] for f in batch.files], WEB_BATCH.format(batch.id))
    commit = committed_as(ledger_dir, batch.preview.get("head"), subject)
    if commit:
        # The confirm passed the head check, so what was booked is what the preview showed.
        result = {k: v for k, v in batch.preview.items() if k != "head"} | {"dry_run": False, "commit": commit}
        if transition(session, batch.id, "confirming", "booked", commit=commit, result=result, decided_at=now):
            return f"its booking was committed ({commit[:12]}) but not recorded: marked booked"
        return None
    error = "the booking was interrupted before anything was written; nothing was booked - upload the files again"
    if transition(session, batch.id, "confirming", "failed", error=error, decided_at=now):
        upload_files.discard(batch.upload_dir)
        return "its booking was interrupted before anything was written: marked failed"
    return None
