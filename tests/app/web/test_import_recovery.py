"""A batch whose request died (server stopped between claiming the batch and
recording what happened) is settled from the ledger's history the next time
batches are listed or shown: never left ``confirming``/``undoing``, never
booked twice, never marked booked when nothing was."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

from sqlalchemy import select, update

from app.web.batch_recovery import STUCK_AFTER
from app.web.db import AuditEvent, ImportBatch, utcnow
from ledger.store import gitrepo

LONG_AGO = STUCK_AFTER + datetime.timedelta(minutes=1)


def preview(client, csrf, name: str, content: str) -> int:
    r = client.post("/import/", data={"csrf_token": csrf(client), "files": (io.BytesIO(content.encode()), name)},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def confirm(client, csrf, batch_id: int) -> None:
    r = client.post(f"/import/{batch_id}/confirm", data={"csrf_token": csrf(client)})
    assert r.status_code == 302, r.get_data(as_text=True)


def crash(app, batch_id: int, status: str, ago: datetime.timedelta = LONG_AGO, **lost) -> None:
    """The batch as a request that died in ``status`` leaves it (``lost``: the
    columns it had not recorded yet)."""
    with app.extensions["isu_db"]() as s:
        s.execute(update(ImportBatch).where(ImportBatch.id == batch_id)
                  .values(status=status, claimed_at=utcnow() - ago, **lost))
        s.commit()


def batch(app, batch_id: int) -> ImportBatch:
    with app.extensions["isu_db"]() as s:
        return s.get(ImportBatch, batch_id)


def recoveries(app) -> list[AuditEvent]:
    with app.extensions["isu_db"]() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == "import.recover").order_by(AuditEvent.id)).all()


def test_a_booking_committed_but_not_recorded_is_marked_booked(app, logged_in, csrf, ledger, head, august_statement):
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    confirm(client, csrf, batch_id)
    booked = batch(app, batch_id).commit
    assert booked == head(ledger)
    assert gitrepo.log(ledger, "-1", "--format=%s").strip() == f"import aug.xml (web batch {batch_id})"
    crash(app, batch_id, "confirming", commit=None, result=None, decided_at=None)

    page = client.get("/import/").get_data(as_text=True)
    settled = batch(app, batch_id)
    assert settled.status == "booked" and settled.commit == booked and settled.result["commit"] == booked
    assert f'href="/import/{batch_id}/undo">Undo this import…</a>' in page
    (event,) = recoveries(app)
    assert event.commit == booked and event.detail == (
        f"batch {batch_id}: its booking was committed ({booked[:12]}) but not recorded: marked booked")
    assert head(ledger) == booked  # nothing booked again
    client.get(f"/import/{batch_id}")
    assert len(recoveries(app)) == 1  # settled once


def test_a_booking_interrupted_before_the_commit_is_marked_failed(app, logged_in, csrf, ledger, head, august_statement):
    client = logged_in(app, "finance")
    before = head(ledger)
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    upload_dir = Path(batch(app, batch_id).upload_dir)
    crash(app, batch_id, "confirming")

    page = client.get(f"/import/{batch_id}").get_data(as_text=True)
    failed = batch(app, batch_id)
    assert failed.status == "failed" and failed.commit is None
    assert "interrupted before anything was written; nothing was booked" in failed.error
    assert "Confirm and book" not in page and not upload_dir.exists() and head(ledger) == before
    assert [e.detail for e in recoveries(app)] == [
        f"batch {batch_id}: its booking was interrupted before anything was written: marked failed"]
    # The same file then imports as any new upload.
    confirm(client, csrf, preview(client, csrf, "aug.xml", august_statement))
    assert head(ledger) != before


def test_the_same_files_booked_by_someone_else_are_not_taken_for_the_batch(app, logged_in, csrf, ledger, head, cli, tmp_path, august_statement):
    """Only this batch's own commit ("(web batch N)") settles it as booked: the
    same file imported at the command line meanwhile is somebody else's booking."""
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    crash(app, batch_id, "confirming")
    statement = tmp_path / "aug.xml"
    statement.write_text(august_statement, encoding="utf-8")
    code, _out, err = cli(ledger, "import", str(statement))
    assert code == 0, err
    client.get("/import/")
    assert batch(app, batch_id).status == "failed"


def test_a_batch_still_being_worked_on_is_left_alone(app, logged_in, csrf, august_statement):
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    crash(app, batch_id, "confirming", ago=datetime.timedelta(seconds=30))
    client.get("/import/")
    client.get(f"/api/imports/{batch_id}")
    assert batch(app, batch_id).status == "confirming" and recoveries(app) == []


def test_an_undo_committed_but_not_recorded_is_marked_undone(app, logged_in, csrf, ledger, head, august_statement):
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    confirm(client, csrf, batch_id)
    assert client.post(f"/import/{batch_id}/undo", data={"csrf_token": csrf(client)}).status_code == 302
    undo_commit = head(ledger)
    crash(app, batch_id, "undoing", undo_commit=None, undone_at=None)

    assert client.get(f"/api/imports/{batch_id}").get_json()["status"] == "undone"
    settled = batch(app, batch_id)
    assert settled.undo_commit == undo_commit and settled.undone_at and head(ledger) == undo_commit
    (event,) = recoveries(app)
    assert event.commit == undo_commit and "its undo was committed" in event.detail


def test_an_undo_interrupted_before_the_commit_leaves_the_batch_booked(app, logged_in, csrf, ledger, head, august_statement):
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    confirm(client, csrf, batch_id)
    booked = head(ledger)
    crash(app, batch_id, "undoing")

    client.get("/import/")
    assert batch(app, batch_id).status == "booked" and head(ledger) == booked
    assert "its undo was interrupted before anything was written: still booked" in recoveries(app)[0].detail
    # ... and it can be undone as any booked batch.
    assert client.post(f"/import/{batch_id}/undo", data={"csrf_token": csrf(client)}).status_code == 302
    assert batch(app, batch_id).status == "undone" and head(ledger) != booked


def test_the_command_line_does_not_undo_a_batch_in_flight(app, logged_in, csrf, ledger, head, cli, database_url,
                                                         monkeypatch, august_statement):
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    confirm(client, csrf, batch_id)
    booked = head(ledger)
    crash(app, batch_id, "undoing")
    monkeypatch.setenv("ISU_DATABASE_URL", database_url)
    code, _out, err = cli(ledger, "import-undo", str(batch_id))
    assert code == 2 and err.strip() == (
        f"isu-ledger: batch {batch_id} is undoing in the web app: wait for it to finish "
        "(one cut short is settled when the web app's import page is next opened)")
    assert head(ledger) == booked


def test_a_batch_the_history_cannot_settle_is_left_and_the_page_still_opens(app, logged_in, csrf, august_statement):
    """Books restored from elsewhere: the preview's commit is not in them. Nothing is guessed."""
    client = logged_in(app, "finance")
    batch_id = preview(client, csrf, "aug.xml", august_statement)
    with app.extensions["isu_db"]() as s:
        row = s.get(ImportBatch, batch_id)
        row.preview = {**row.preview, "head": "0" * 40}
        s.commit()
    crash(app, batch_id, "confirming")
    assert client.get("/import/").status_code == 200
    assert batch(app, batch_id).status == "confirming" and recoveries(app) == []
