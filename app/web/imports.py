"""Import bank statements: upload -> preview -> confirm.

The preview is the dry run of ``importers.importing.import_files`` - exactly
what will be booked, each receipt's identification and why - kept in an
``ImportBatch`` row while the files wait in a private upload directory.
Confirming books that same batch, but only if the books have not moved
since the preview (otherwise what was shown would no longer be what is
booked): the user previews again. Each change of a batch's state is one
conditional SQL UPDATE (``transition``), so a confirm and a discard of the
same batch cannot both win.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.web import upload_files
from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.batch_recovery import WEB_BATCH, recover
from app.web.db import ImportBatch, utcnow
from app.web.import_batches import Batches, transition
from app.web.views import Refused, acting_user, ledger_dir, ledger_errors, ledger_refusal
from ledger.store import gitrepo

bp = Blueprint("imports", __name__, url_prefix="/import")


def _plain(value):
    """JSON-safe copy of the import report (suggestions may be objects)."""
    return json.loads(json.dumps(value, default=lambda o: getattr(o, "__dict__", str(o))))


def _run(files: list[dict], *, dry_run: bool, label: str | None = None):
    from importers.importing import ImportRefused, import_files

    try:
        return import_files(ledger_dir(), [f["path"] for f in files], dry_run=dry_run, user=acting_user(), label=label)
    except ImportRefused as exc:
        raise Refused(upload_files.rename_paths(str(exc), files), 409) from None
    except ledger_errors() as exc:
        raise Refused(upload_files.rename_paths(str(ledger_refusal(exc)), files), ledger_refusal(exc).status) from None


def _named(report: dict, files: list[dict]) -> dict:
    text = json.dumps(report)
    for f in files:
        text = text.replace(json.dumps(f["path"])[1:-1], f["name"])
    return json.loads(text)


def preview(storages) -> ImportBatch:
    """Save the uploads and dry-run them; the batch waits for confirm."""
    directory, files = upload_files.save(storages, "bank")
    try:
        report = _run(files, dry_run=True)
    except Refused as exc:
        upload_files.discard(directory)
        record("import.preview", "refused", str(exc))
        raise
    batch = ImportBatch(
        user_id=current_user().id,
        status="previewed",
        upload_dir=str(directory),
        files=[{"name": f["name"], "format": f["format"], "size": f["size"]} for f in files],
        preview={**_named(_plain(report.to_json()), files), "head": gitrepo.head(ledger_dir()),
                 "writes": len(report.entries)},
    )
    db().add(batch)
    db().commit()
    record("import.preview", "ok", f"batch {batch.id}: {', '.join(f['name'] for f in files)}: would import {report.imported}, {report.needs_review} to review, {report.unreconciled} to reconcile")
    return batch


def why_facts():
    """A function giving the importer's reasoning for one receipt as short
    facts, States by name (``importers.explain``); the registry read once per page."""
    from importers.explain import facts
    from ledger.registry import Registry

    registry = Registry.load(ledger_dir())
    return lambda why: facts(why, registry.display_name)


def settle_stuck() -> None:
    """Batches whose request died are set to what the ledger shows, audited
    (``app.web.batch_recovery``); run where batches are listed or shown."""
    for batch, found in recover(db(), ledger_dir()):
        record("import.recover", "ok", f"batch {batch.id}: {found}", commit=batch.undo_commit or batch.commit)


def get_batch(batch_id: int) -> ImportBatch:
    batch = db().get(ImportBatch, batch_id) if 0 < batch_id < 2**31 else None
    if batch is None:
        abort(404, f"no import batch {batch_id}")
    return batch


def _claim(batch: ImportBatch, after: str, action: str, **values) -> None:
    """Take a previewed batch to ``after``, or refuse (409) if another request
    took it first; the batch object is reloaded either way."""
    won = transition(db(), batch.id, "previewed", after, **values)
    db().refresh(batch)
    if not won:
        message = f"batch {batch.id} is {batch.status}, not waiting for confirmation"
        record(action, "refused", message)
        raise Refused(message, 409)


def confirm(batch_id: int) -> ImportBatch:
    """Book a previewed batch (one ledger commit) if the books are where they were.

    The batch is first claimed (``previewed`` -> ``confirming``), so a discard
    or a second confirm arriving meanwhile is refused; it ends ``booked`` or
    ``failed`` - or back at ``previewed`` when the books moved since the
    preview (nothing was tried)."""
    batch = get_batch(batch_id)
    _claim(batch, "confirming", "import.confirm", claimed_at=utcnow())
    if gitrepo.head(ledger_dir()) != batch.preview.get("head"):
        transition(db(), batch.id, "confirming", "previewed")
        db().refresh(batch)
        message = f"batch {batch.id}: the books changed since the preview; upload the files again to see what would be booked now"
        record("import.confirm", "refused", message)
        raise Refused(message, 409)
    files = [{**f, "path": str(upload_files.Path(batch.upload_dir) / f["name"])} for f in batch.files]
    try:
        report = _run(files, dry_run=False, label=WEB_BATCH.format(batch.id))
    except Refused as exc:
        transition(db(), batch.id, "confirming", "failed", error=str(exc), decided_at=utcnow())
        db().refresh(batch)
        upload_files.discard(batch.upload_dir)
        record("import.confirm", "refused", f"batch {batch.id}: {exc}")
        raise
    result = _named(_plain(report.to_json()), files)
    transition(db(), batch.id, "confirming", "booked", commit=report.commit, result=result, decided_at=utcnow())
    db().refresh(batch)
    upload_files.discard(batch.upload_dir)
    record("import.confirm", "ok", f"batch {batch.id}: imported {report.imported}, {report.duplicates} already booked, {report.needs_review} to review, {report.unreconciled} to reconcile", commit=report.commit)
    return batch


def discard(batch_id: int) -> ImportBatch:
    batch = get_batch(batch_id)
    _claim(batch, "discarded", "import.discard", decided_at=utcnow())
    upload_files.discard(batch.upload_dir)
    record("import.discard", "ok", f"batch {batch.id}")
    return batch


# --- undo ------------------------------------------------------------------------


def _undoable(batch: ImportBatch, status: str = "booked") -> None:
    """Refuse a batch that is not ``status`` or booked nothing (no ledger read)."""
    if batch.status == "undone":
        raise Refused(f"batch {batch.id} was undone already (commit {(batch.undo_commit or '')[:12]})", 409)
    if batch.status != status:
        raise Refused(f"batch {batch.id} is {batch.status}: only a booked import can be undone", 409)
    if not batch.commit:
        raise Refused(f"batch {batch.id} booked nothing new: there is nothing to undo", 409)


def _undo_ledger(batch: ImportBatch, *, dry_run: bool):
    """Run the undo of a batch's commit (or its dry run); refusals as ``Refused``."""
    from importers.import_undo import UndoRefused, undo_import

    try:
        return undo_import(ledger_dir(), batch.commit, user=acting_user(), label=f"batch {batch.id}",
                           name_of=Batches(db()).name_of, dry_run=dry_run)
    except UndoRefused as exc:
        raise Refused(str(exc), 409) from None
    except ledger_errors() as exc:
        raise Refused(str(ledger_refusal(exc)), ledger_refusal(exc).status) from None


def undo_check(batch_id: int) -> str | None:
    """Why the batch cannot be undone now (one line), or None: the undo's own
    checks, the writer's included, on a dry run (the confirmation page)."""
    batch = get_batch(batch_id)
    try:
        _undoable(batch)
        _undo_ledger(batch, dry_run=True)
    except Refused as exc:
        return str(exc)
    return None


def undo(batch_id: int) -> ImportBatch:
    """Take a booked batch's entries out of the books (one ledger commit) and
    mark it undone. The batch is claimed first (``booked`` -> ``undoing``), so
    two undos of one batch cannot both run; a refusal puts it back."""
    batch = get_batch(batch_id)
    won = transition(db(), batch.id, "booked", "undoing", claimed_at=utcnow())
    db().refresh(batch)
    try:
        _undoable(batch, "undoing" if won else "booked")  # lost: says what the batch is (undone, ...)
        if not won:
            raise Refused(f"batch {batch.id} is being undone by another request", 409)
        report = _undo_ledger(batch, dry_run=False)
    except Refused as exc:
        if won:
            transition(db(), batch.id, "undoing", "booked")
            db().refresh(batch)
        record("import.undo", "refused", str(exc))
        raise
    transition(db(), batch.id, "undoing", "undone", undo_commit=report.undo_commit, undone_at=utcnow())
    db().refresh(batch)
    record("import.undo", "ok", f"batch {batch.id}: removed {report.entries} entries ({report.receipts} bank transactions) "
           f"of commit {report.commit[:12]}", commit=report.undo_commit)
    return batch


def batch_json(batch: ImportBatch) -> dict:
    return {
        "id": batch.id,
        "status": batch.status,
        "created_at": batch.created_at.isoformat() + "Z",
        "user": batch.user.name,
        "files": batch.files,
        "preview": {k: v for k, v in batch.preview.items() if k != "head"},
        "result": batch.result,
        "error": batch.error,
        "commit": batch.commit,
        "undo_commit": batch.undo_commit,
    }


# --- pages ---------------------------------------------------------------------


@bp.get("/")
@require("import")
def index():
    settle_stuck()
    recent = db().scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(20)).all()
    return render_template("import.html", recent=recent)


@bp.post("/")
@require("import")
def upload():
    try:
        batch = preview(request.files.getlist("files"))
    except Refused as exc:
        # The preview ran the booking's own checks: what they refuse, the
        # confirm would refuse too - said in plain words, with nothing to confirm.
        flash(f"The books would refuse this import, so there is nothing to confirm: {exc}", "error")
        return render_template("import.html", recent=[]), exc.status
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.get("/<int:batch_id>")
@require("import")
def show(batch_id: int):
    settle_stuck()
    return render_template("import_preview.html", batch=get_batch(batch_id), why_facts=why_facts())


@bp.post("/<int:batch_id>/confirm")
@require("import")
def confirm_page(batch_id: int):
    try:
        batch = confirm(batch_id)
    except Refused as exc:
        flash(str(exc), "error")
        return render_template("import_preview.html", batch=get_batch(batch_id), why_facts=why_facts()), exc.status
    # The batch page says what was booked (once), with the way to the review queue.
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.get("/<int:batch_id>/undo")
@require("import")
def undo_page(batch_id: int):
    """The confirmation step: what the undo removes, or why it cannot."""
    batch = get_batch(batch_id)
    return render_template("import_undo.html", batch=batch, refusal=undo_check(batch.id))


@bp.post("/<int:batch_id>/undo")
@require("import")
def undo_post(batch_id: int):
    try:
        batch = undo(batch_id)
    except Refused as exc:  # recorded in the audit log by undo(); said once, on the page
        return render_template("import_undo.html", batch=get_batch(batch_id), refusal=str(exc)), exc.status
    flash(f"Import {batch.id} undone: its entries were taken out of the books in ledger commit "
          f"{(batch.undo_commit or '')[:12]}. The same files can be imported again.", "ok")
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.post("/<int:batch_id>/discard")
@require("import")
def discard_page(batch_id: int):
    try:
        discard(batch_id)
        flash("Import discarded: nothing was booked and the uploaded files were deleted.", "ok")
    except Refused as exc:
        flash(str(exc), "error")
    return redirect(url_for("imports.index"))
