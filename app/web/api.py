"""The JSON API: the same actions as the pages, described in
``app/openapi.yaml`` (served at ``/api/openapi.json``), with the same login
session, roles and CSRF protection: a client gets a token from
``GET /api/csrf`` and sends it as ``X-CSRFToken`` on every POST.

Errors are ``{"error": "...", "status": N}`` (one handler in create_app).
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Blueprint, abort, jsonify, request
from flask_wtf.csrf import generate_csrf

from app.web import audit

from app.web import imports

from app.web import registry

from app.web import reports

from app.web import review

from app.web import workbooks

from app.web import yearend
from app.web.auth import current_user, db, log_in, log_out, require
from app.web.dashboard import position
from app.web.views import Refused, books, default_year, money_text, parse_date

bp = Blueprint("api", __name__, url_prefix="/api")
SPEC = Path(__file__).with_name("openapi.yaml")


@functools.cache
def spec() -> dict:
    import yaml

    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def body() -> dict:
    """The JSON object of the request; 400 for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "the request body must be a JSON object")
    return data


def field(data: dict, key: str, kind: type, *, required: bool = True, default=None):
    value = data.get(key, default)
    if value is None:
        if required:
            abort(400, f"{key}: required")
        return default
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        abort(400, f"{key}: must be an integer")
    if kind is not int and not isinstance(value, kind):
        abort(400, f"{key}: must be a {kind.__name__}")
    return value


def year_of(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1999 <= value <= 2200:
        abort(400, "year: must be an integer between 1999 and 2200")
    return value


def user_json(user) -> dict:
    return {"name": user.name, "role": user.role}


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.get("/csrf")
def csrf():
    return jsonify({"csrf_token": generate_csrf()})


@bp.post("/login")
def login():
    from app.web.auth import client_ip, login_secret, record_refused_login
    from app.web.users import TooManyAttempts, authenticate

    data = body()
    name, password = field(data, "name", str), field(data, "password", str)
    try:
        user = authenticate(db(), name, password, client_ip(), secret=login_secret())
    except TooManyAttempts as exc:
        record_refused_login(name, str(exc))
        response = jsonify({"error": str(exc), "status": 429})
        response.status_code = 429
        response.headers["Retry-After"] = str(exc.seconds)
        return response
    if user is None:
        record_refused_login(name, "wrong name or password")
        abort(401, "wrong user name or password")
    log_in(user)
    audit.record("login", "ok", f"{user.name} ({user.role}) via API")
    return jsonify({**user_json(user), "csrf_token": generate_csrf()})


@bp.post("/logout")
def logout():
    if current_user() is not None:
        audit.record("logout", "ok", "via API")
    log_out()
    return jsonify({"ok": True})


@bp.get("/me")
@require("dashboard")
def me():
    return jsonify(user_json(current_user()))


@bp.get("/position")
@require("dashboard")
def get_position():
    year = request.args.get("year", type=int) or default_year(books().entries)
    pos = position(year_of(year))
    return jsonify({
        "year": pos["year"],
        "as_of": pos["as_of"].isoformat(),
        "status": pos["status"],
        **{k: money_text(pos[k]) for k in ("bank_balance", "received", "pledged", "outstanding", "unidentified", "budget", "spent", "buffer_balance", "buffer_target")},
        "buffer_ratio": None if pos["buffer_ratio"] is None else str(pos["buffer_ratio"]),
        "months_covered": None if pos["months_covered"] is None else str(pos["months_covered"]),
        "review_count": pos["review_count"],
        "ledger_errors": pos["ledger_errors"],
    })


# --- imports -----------------------------------------------------------------


@bp.post("/imports")
@require("import")
def import_preview():
    return jsonify(imports.batch_json(imports.preview(request.files.getlist("files")))), 201


@bp.get("/imports/<int:batch_id>")
@require("import")
def import_get(batch_id: int):
    imports.settle_stuck()
    return jsonify(imports.batch_json(imports.get_batch(batch_id)))


@bp.post("/imports/<int:batch_id>/confirm")
@require("import")
def import_confirm(batch_id: int):
    return jsonify(imports.batch_json(imports.confirm(batch_id)))


@bp.post("/imports/<int:batch_id>/undo")
@require("import")
def import_undo(batch_id: int):
    return jsonify(imports.batch_json(imports.undo(batch_id)))


@bp.post("/imports/<int:batch_id>/discard")
@require("import")
def import_discard(batch_id: int):
    return jsonify(imports.batch_json(imports.discard(batch_id)))


# --- review ----------------------------------------------------------------------


@bp.get("/review")
@require("review.view")
def review_list():
    return jsonify(review.items())


def _resolve(item_id: str, data: dict) -> dict:
    decision = review.resolve_item(
        item_id,
        state_party=field(data, "state_party", str),
        year=year_of(data.get("year")),
        work_plan=field(data, "work_plan", str, required=False, default="core"),
        remember=field(data, "remember", bool, required=False, default=False),
    )
    return review.decision_json(decision)


@bp.post("/review/<item_id>/resolve")
@require("review.resolve")
def review_resolve(item_id: str):
    return jsonify(_resolve(item_id, body()))


@bp.post("/review/resolve")
@require("review.resolve")
def review_resolve_many():
    """Resolve several items; each is its own commit, each reports its outcome."""
    items = body().get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        abort(400, "items: a non-empty list of objects")
    results = []
    for item in items:
        item_id = field(item, "id", str)
        try:
            results.append({"id": item_id, "ok": True, "decision": _resolve(item_id, item)})
        except Refused as exc:
            results.append({"id": item_id, "ok": False, "error": str(exc)})
    return jsonify({"results": results, "resolved": sum(r["ok"] for r in results)})


@bp.post("/review/decisions/<int:decision_id>/undo")
@require("review.resolve")
def review_undo(decision_id: int):
    """Undo a review decision: the receipt goes back to the queue (one commit)."""
    undone = review.undo_decision(decision_id)
    return jsonify({"id": undone.id, "bank_ref": undone.bank_ref, "commit": undone.commit,
                    "rule_forgotten": undone.rule_forgotten})


@bp.get("/states")
@require("dashboard")
def states():
    """States and other contributors by code or any name (search as you type)."""
    return jsonify(review.states_json(request.args.get("q", "")))


# --- reports, year end, registry, uploads, audit -----------------------------------


@bp.get("/reports/<name>")
@require("reports")
def report(name: str):
    args = request.args
    year = args.get("year", type=int)
    if year is None:
        abort(400, "year: required (YYYY)")
    fmt = args.get("format", "json")
    response = reports.download(name, year_of(year), fmt, args.get("as_of") or None, args.get("state_party") or None)
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace("inline", "attachment")
    return response


@bp.get("/year-end")
@require("yearend.view")
def years():
    return jsonify(yearend.years_status())


@bp.post("/year-end/<int:year>/close")
@require("yearend.close")
def close(year: int):
    plan, commit = yearend.close(year_of(year))
    return jsonify({"year": year, "lines": plan.lines(), "commit": commit})


@bp.post("/year-end/<int:year>/sign-off")
@require("yearend.sign_off")
def sign_off(year: int):
    """Signed in the signed-in auditor's full name: a body naming an auditor is refused."""
    data = body()
    if "auditor" in data:
        abort(400, "auditor: the signing auditor is the signed-in account (its full name); for whom it signs goes in on_behalf_of")
    row = yearend.sign(
        year_of(year),
        parse_date(field(data, "opinion_date", str), "opinion_date"),
        field(data, "on_behalf_of", str, required=False),
    )
    return jsonify({"year": row.year, "auditor": row.auditor, "on_behalf_of": row.on_behalf_of,
                    "opinion_date": row.opinion_date.isoformat(), "commit": row.commit})


@bp.get("/registry")
@require("registry.view")
def registry_list():
    return jsonify([registry.contributor_json(c) for c in registry.contributors()])


@bp.post("/registry/<iso3>/aliases")
@require("registry.edit")
def registry_alias(iso3: str):
    alias = field(body(), "alias", str)
    try:
        commit = registry.add_alias(iso3, alias)
    except Refused as exc:
        audit.record("registry.alias", "refused", f"{iso3[:8]} {alias[:80]!r}: {exc}")
        raise
    audit.record("registry.alias", "ok", f"{iso3.upper()}: alias {alias!r}", commit=commit)
    return jsonify({"iso3": iso3.upper(), "alias": " ".join(alias.split()), "commit": commit})


@bp.post("/uploads/<kind>")
@require("uploads")
def upload(kind: str):
    form = request.form
    try:
        summary, commit = workbooks.upload(kind, request.files.get("file"), form, dry_run=form.get("dry_run") in ("1", "true", "on"))
    except Refused as exc:
        audit.record(f"upload.{kind}", "refused", str(exc))
        raise
    return jsonify({"summary": summary, "commit": commit})


@bp.get("/audit")
@require("audit")
def audit_list():
    rows, page, total = audit.events(request.args.get("page"), request.args.get("action") or None)
    return jsonify({"total": total, "page": page, "events": [audit.event_json(e) for e in rows]})
