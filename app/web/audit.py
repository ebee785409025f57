"""The audit log: who did what, when, with what outcome, and the ledger
commit it produced. ``record`` is called by every state-changing action
(pages and API alike); the page lists the events, each linked to its
commit in the ledger's git history."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, g, render_template, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.web.auth import client_ip, current_user, db, require
from app.web.db import AuditEvent
from ledger.store import gitrepo

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100


def storable(text: str) -> str:
    """Text any SQL database keeps: NUL (refused by PostgreSQL) and lone
    surrogates (not UTF-8) replaced. Audit details quote what users sent."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def record(action: str, outcome: str, detail: str = "", *, commit: str | None = None, user_name: str | None = None) -> AuditEvent:
    """Write one audit event in its own transaction (it must survive a
    rollback of the action it describes)."""
    user = g.get("user") if "user" in g else current_user()
    detail = storable(detail)
    user_name = storable(user_name) if user_name else None
    event = AuditEvent(
        user_name=(user.name if user else user_name or None),
        role=user.role if user else None,
        action=storable(action)[:60],
        outcome=outcome,
        detail=detail[:4000],
        ip=client_ip()[:64] if request else None,
        commit=commit,
    )
    with current_app.extensions["isu_db"]() as s:
        s.add(event)
        s.commit()
    if outcome == "refused" and request:
        g.refusal_recorded = True
    return event


READS = frozenset({"GET", "HEAD", "OPTIONS"})


def refusal_of(response) -> str | None:
    """What this request was refused with, if it is a refused action the
    view did not record itself: any 403 or 429; a form or API call answered
    with an error status or an error message flashed for the next page.
    (A page not found while browsing is not an action.)"""
    if g.get("refusal_recorded") or request.endpoint == "static":
        return None
    status = response.status_code
    if status in (403, 429) or (request.method not in READS and status >= 400):
        return g.get("refusal") or g.get("flashed_error") or f"HTTP {status}"
    if request.method not in READS and g.get("flashed_error"):
        return g.flashed_error
    return None


def note_flash(_app, message: str, category: str, **_extra) -> None:
    """``message_flashed`` signal: keep this request's last error message
    (the reason of a refusal a form answers with a message)."""
    if category == "error":
        g.flashed_error = message


def record_refusal(response):
    """after_request: every refused action recorded once, with user, action
    and reason. A database that cannot take the event (the cause of a 500,
    say) is logged, and the answer still goes out."""
    reason = refusal_of(response)
    if reason is not None:
        action = (request.endpoint or "page").replace("_page", "")
        try:
            record(action, "refused", f"{request.method} {request.path}: {reason}")
        except SQLAlchemyError:
            current_app.logger.exception("audit: the refusal of %s %s could not be recorded", request.method, request.path)
    return response


def commit_summary(sha: str) -> str | None:
    """The one-line git description of a ledger commit (None if unknown)."""
    try:
        return gitrepo.log(current_app.config["LEDGER_DIR"], "-1", "--format=%h %ad %an: %s", "--date=short", sha, "--").strip()
    except gitrepo.GitError:
        return None


def page_count(total: int) -> int:
    return max((total + PAGE - 1) // PAGE, 1)


def page_number(text: str | None, total: int) -> int:
    """The page a query string asks for, clamped to the pages there are (a
    number beyond any SQL integer included); 400 when it is not a number."""
    text = (text or "").strip()
    if not text:
        return 1
    if not re.fullmatch(r"[+-]?[0-9]{1,64}", text):
        abort(400, f"page: {text[:20]!r} is not a page number")
    return min(max(int(text), 1), page_count(total))


def events(page_text: str | None = None, action: str | None = None, outcome: str | None = None) -> tuple[list[AuditEvent], int, int]:
    """(events of the page asked for, newest first; that page's number; total events)."""
    query = select(AuditEvent)
    count = select(func.count(AuditEvent.id))
    for column, value in ((AuditEvent.action, action), (AuditEvent.outcome, outcome)):
        if value:
            value = storable(value)  # a NUL cannot be in a stored value (and PostgreSQL refuses it in a query)
            query = query.where(column == value)
            count = count.where(column == value)
    total = db().scalar(count) or 0
    page = page_number(page_text, total)
    rows = db().scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE).offset((page - 1) * PAGE)).all()
    return list(rows), page, total


def event_json(e: AuditEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at.isoformat() + "Z",
        "user": e.user_name,
        "role": e.role,
        "action": e.action,
        "outcome": e.outcome,
        "detail": e.detail,
        "commit": e.commit,
    }


@bp.get("/")
@require("audit")
def index():
    action = request.args.get("action") or None
    outcome = request.args.get("outcome") or None
    rows, page, total = events(request.args.get("page"), action, outcome)
    return render_template("audit.html", rows=rows, total=total, page=page, pages=page_count(total), action=action, outcome=outcome)


@bp.get("/commit/<sha>")
@require("audit")
def commit(sha: str):
    """One ledger commit as git shows it (message and diff stat)."""
    if not (7 <= len(sha) <= 64 and all(ch in "0123456789abcdef" for ch in sha)):
        abort(404)
    try:
        text = gitrepo.run(current_app.config["LEDGER_DIR"], "show", "--stat", "--format=fuller", sha, "--")
    except gitrepo.GitError:
        abort(404)
    return render_template("commit.html", sha=sha, text=text)
