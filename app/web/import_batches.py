"""Import batches as the undo sees them, for the web app and the command line
alike: a batch number or a ledger commit to the import's commit, a commit to
the batch that booked it, and the batch marked undone once the ledger is;
and the one way a batch changes state (``transition``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.web.db import ImportBatch, utcnow


def transition(session: Session, batch_id: int, before: str, after: str, **values) -> bool:
    """Move a batch from state ``before`` to ``after`` (and set ``values``) in
    one conditional UPDATE, committed at once: of two requests racing to
    move the same batch (a confirm and a discard), exactly one wins - the
    database decides, not a read followed by a write."""
    done = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id, ImportBatch.status == before)
        .values(status=after, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return done.rowcount == 1


class Batches:
    """Over ``session`` (the web app's database), or over nothing (None: a
    ledger without web app; only commits name imports then)."""

    def __init__(self, session: Session | None):
        self.session = session

    def commit_of(self, batch: str) -> tuple[str, str | None]:
        """(commit, label) of a batch number (``12``) or an import commit
        (``3f2a9c1b``, as ``import`` printed it); the label names it in refusals."""
        from importers.import_undo import UndoRefused

        text = batch.strip()
        if not (text.isdigit() and len(text) < 7):
            return text, None
        if self.session is None:
            raise UndoRefused(f"{text}: no web import batches here (no database); give the import's commit")
        found = self.session.get(ImportBatch, int(text)) if 0 < int(text) < 2**31 else None
        if found is None:
            raise UndoRefused(f"{text}: no import batch {text}")
        if found.status == "undone":
            raise UndoRefused(f"batch {found.id} was undone already (commit {(found.undo_commit or '')[:12]})")
        if found.status in ("confirming", "undoing"):
            raise UndoRefused(f"batch {found.id} is {found.status} in the web app: wait for it to finish "
                              f"(one cut short is settled when the web app's import page is next opened)")
        if found.status != "booked" or not found.commit:
            raise UndoRefused(f"batch {found.id} is {found.status} and booked nothing: there is nothing to undo")
        return found.commit, f"batch {found.id}"

    def name_of(self, commit: str) -> str:
        """"batch N" for the booked batch of that ledger commit, else the commit."""
        found = None
        if self.session is not None:
            found = self.session.scalars(select(ImportBatch.id).where(ImportBatch.commit == commit)).first()
        return f"batch {found}" if found else f"the import {commit[:12]}"

    def mark_undone(self, commit: str, undo_commit: str | None) -> None:
        """The booked batch of ``commit`` (if any) is undone by ``undo_commit``."""
        if self.session is None or undo_commit is None:
            return
        self.session.execute(
            update(ImportBatch)
            .where(ImportBatch.commit == commit, ImportBatch.status == "booked")
            .values(status="undone", undo_commit=undo_commit, undone_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
