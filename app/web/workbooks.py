"""Pledges, budgets and GICHD expenditure from the Excel templates.

Download a template (pre-filled from the books), fill it in, upload it:
the same ``ledger.finance.pledges`` / ``ledger.finance.budgets`` / ``ledger.finance.expenditure``
planning functions as the CLI read and check it (every problem of the
workbook listed at once), and one ledger commit records it - or, with
"preview only", nothing is written and the plan is shown."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from app.web import upload_files
from app.web.audit import record
from app.web.auth import require
from app.web.views import (
    Refused,
    acting_user,
    books,
    ledger_dir,
    ledger_errors,
    ledger_refusal,
    parse_date,
    parse_year,
    refusals_audited,
)

bp = Blueprint("uploads", __name__, url_prefix="/uploads")
KINDS = ("pledges", "budget", "expenditure")


def _module(kind: str):
    from ledger.finance import budgets
    from ledger.finance import expenditure
    from ledger.finance import pledges

    return {"pledges": pledges, "budget": budgets, "expenditure": expenditure}[kind]


def template(kind: str) -> tuple[bytes, str]:
    from ledger.finance.workbooks import write_template

    if kind not in KINDS:
        raise Refused(f"{kind}: unknown template ({', '.join(KINDS)})", 404)
    module = _module(kind)
    rows_fn = getattr(module, "template_rows", None)
    rows = rows_fn(books().entries, None) if rows_fn else []
    with tempfile.TemporaryDirectory(prefix="isu-template-") as tmp:
        path = write_template(Path(tmp) / f"isu-{kind}.xlsx", module.TEMPLATE, rows)
        return path.read_bytes(), f"isu-{kind}.xlsx"


def _write(action: str, entries: list, replacements=(), files=()) -> str | None:
    from ledger.store.writer import write_plan

    return write_plan(ledger_dir(), acting_user(), action, entries, replacements, files)


def _plan(kind: str, path: Path, form) -> tuple[str, list, list, list]:
    """(summary, new entries, replacements, files) for an uploaded workbook."""
    entries = books().entries
    today = datetime.date.today()
    if kind == "pledges":
        from ledger.finance.pledges import plan_pledges, read_pledge_workbook
        from ledger.registry import Registry

        specs = read_pledge_workbook(path, entries, Registry.load(ledger_dir()).codes(), today)
        plan = plan_pledges(entries, specs, today)
        return f"{len(plan.new)} new, {len(plan.updates)} updated, {len(plan.unchanged)} unchanged pledge(s)", plan.new, plan.updates, []
    if kind == "budget":
        from ledger.finance.budgets import plan_budget, read_budget_workbook

        decision = " ".join((form.get("decision") or "").split())  # needed only when a figure changes
        decided = parse_date(form.get("decided") or today.isoformat(), "decided")
        items = read_budget_workbook(path, entries)
        planned = plan_budget(entries, items, decision, decided)
        return f"{len(planned)} budget line(s) recorded, {len(items) - len(planned)} unchanged", planned, [], []
    from ledger.finance.expenditure import plan_import

    plan = plan_import(ledger_dir(), path, entries)
    files = [plan.archive] if plan.archive and plan.entries else []
    return f"{len(plan.entries)} cost(s) booked, {len(plan.duplicates)} already booked", plan.entries, [], files


def upload(kind: str, storage, form, *, dry_run: bool) -> tuple[str, str | None]:
    """Plan and (unless ``dry_run``) record one workbook; (summary, commit)."""
    from ledger.finance.budgets import BudgetRefused
    from ledger.finance.workbooks import ExcelErrors
    from ledger.finance.pledges import PledgeRefused

    if kind not in KINDS:
        raise Refused(f"{kind}: unknown upload ({', '.join(KINDS)})", 404)
    directory, files = upload_files.save([storage], "xlsx")
    name = files[0]["name"]
    try:
        summary, new, replacements, archive = _plan(kind, Path(files[0]["path"]), form)
        commit = None
        if not dry_run and (new or replacements):
            commit = _write(f"{kind} import {name}", new, replacements, archive)
    except ExcelErrors as exc:
        raise Refused("; ".join(upload_files.rename_paths(e, files) for e in exc.errors[:20])) from None
    except (BudgetRefused, PledgeRefused) as exc:
        raise Refused(upload_files.rename_paths(str(exc), files)) from None
    except ledger_errors() as exc:
        refusal = ledger_refusal(exc)
        raise Refused(upload_files.rename_paths(str(refusal), files), refusal.status) from None
    finally:
        upload_files.discard(directory)
    summary = f"{name}: {summary}" + (" (preview: nothing written)" if dry_run else "")
    record(f"upload.{kind}", "ok", summary, commit=commit)
    return summary, commit


def _line_name(account: str) -> str:
    from ledger.conventions import EXPENSES

    return account.removeprefix(EXPENSES + ":")


def _budget_lines() -> list[str]:
    from ledger.finance.budgets import budget_accounts

    return [_line_name(a) for a in budget_accounts(books().entries)]


@bp.get("/")
@require("uploads")
def index():
    today = datetime.date.today()
    return render_template("uploads.html", kinds=KINDS, today=today, budget_lines=_budget_lines(),
                           explain_year=today.year - 1)


def explain(form) -> tuple[str, str | None]:
    """Record finance staff's explanation of a budget line's variance
    (Statement IV of the annual report); (summary, commit)."""
    from ledger.finance.budgets import BudgetRefused, variance_entry

    year = parse_year(form.get("year"))
    line = (form.get("line") or "").strip()
    text = form.get("text") or ""
    if not line:
        raise Refused("Budget line: choose the line whose variance you explain")
    if not " ".join(text.split()):
        raise Refused("Explanation: say why the actual amount differs from the final budget")
    with refusals_audited("budget.explain", f"{line} {year}", BudgetRefused):
        entry = variance_entry(books().entries, year, line, text, datetime.date.today())
        name = _line_name(entry.values[1].value)
        commit = _write(f"budget explain {name} {year}", [entry])
    summary = f"{name} {year}: variance explained"
    record("budget.explain", "ok", summary, commit=commit)
    return summary, commit


@bp.post("/budget/explain")
@require("uploads")
def post_explain():
    try:
        summary, commit = explain(request.form)
        flash(summary + (f" (commit {commit[:12]})" if commit else ""), "ok")
    except Refused as exc:  # in the audit log once: by refusals_audited, or by audit.record_refusal (the flashed reason)
        flash(str(exc), "error")
    return redirect(url_for("uploads.index") + "#explain", 303)


@bp.get("/template/<kind>")
@require("uploads")
def download_template(kind: str):
    try:
        content, filename = template(kind)
    except Refused as exc:
        from flask import abort

        abort(exc.status, str(exc))
    response = Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/<kind>")
@require("uploads")
def post(kind: str):
    try:
        summary, commit = upload(kind, request.files.get("file"), request.form, dry_run=bool(request.form.get("dry_run")))
        flash(summary + (f" (commit {commit[:12]})" if commit else ""), "ok")
    except Refused as exc:
        record(f"upload.{kind}", "refused", str(exc))
        flash(str(exc), "error")
    return redirect(url_for("uploads.index"), 303)
