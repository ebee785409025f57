"""Year end: close a year (finance), sign it off (the auditor).

Both are ``ledger.finance.yearend`` functions - one ledger commit each - recorded in
the audit log; a sign-off is also kept as a ``SignOff`` row."""

from __future__ import annotations

import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.web.audit import record
from app.web.auth import current_user, db, require
from app.web.db import SignOff
from app.web.views import (
    Refused,
    acting_user,
    book_years,
    books,
    form_year,
    ledger_dir,
    money_text,
    parse_date,
    refusals_audited,
)

bp = Blueprint("yearend", __name__, url_prefix="/year-end")


def close(year: int):
    from ledger.finance.yearend import YearEndRefused, close_year

    with refusals_audited("year.close", str(year), YearEndRefused):
        plan = close_year(ledger_dir(), year, user=acting_user())
    record("year.close", "ok", f"{year}: " + " ".join(" ".join(plan.lines()).split()), commit=plan.commit)
    return plan, plan.commit


def sign(year: int, opinion_date: datetime.date, on_behalf_of: str | None = None, opinion: str = "unmodified") -> SignOff:
    """The signed-in auditor signs ``year`` off in their account's full name;
    ``on_behalf_of`` (optional) is recorded apart: in the books, the commit
    message, the SignOff row and the audit log."""
    from ledger.finance.yearend import YearEndRefused, sign_off

    user = current_user()
    if not user.full_name:
        record("year.sign_off", "refused", f"{year}: account {user.name} has no full name")
        raise Refused(f"your account ({user.name}) has no full name to sign with: an admin sets it on the Users page", 409)
    with refusals_audited("year.sign_off", str(year), YearEndRefused):
        result = sign_off(ledger_dir(), year, user.full_name, opinion_date, user=acting_user(), on_behalf_of=on_behalf_of,
                          opinion=opinion)
    row = SignOff(year=year, auditor=result.auditor, on_behalf_of=result.on_behalf_of, opinion_date=opinion_date, user_id=user.id, commit=result.commit)
    db().add(row)
    db().commit()
    behalf = f", on behalf of {row.on_behalf_of}" if row.on_behalf_of else ""
    record("year.sign_off", "ok", f"{year}: auditor {row.auditor}{behalf}, opinion {opinion_date}, fingerprint {result.fingerprint[:16]}", commit=result.commit)
    return row


def years_status() -> list[dict]:
    """Per year in the books: closed (with figures), signed off (by whom)."""
    from ledger.finance.yearend import closed_figures, locked_years, on_behalf_of

    entries = books().entries
    locked = locked_years(entries)
    out = []
    for year in book_years(entries):
        figures = closed_figures(entries, year)
        lock = locked.get(year)
        out.append({
            "year": year,
            "closed": figures is not None,
            "figures": {k: money_text(v) for k, v in (figures or {}).items()},
            "signed_off": lock is not None,
            "auditor": lock.auditor if lock else None,
            "on_behalf_of": on_behalf_of(lock) if lock else None,
            "opinion_date": lock.opinion_date.isoformat() if lock else None,
        })
    return out


def first_open(years: list[dict], today: datetime.date) -> dict[str, int | None]:
    """The year each form offers first: to close, the earliest year that is
    over and not signed off (else the earliest not signed off); to sign off,
    the earliest closed year not signed off. Never a locked year."""
    open_years = sorted(y["year"] for y in years if not y["signed_off"])
    over = [y for y in open_years if y < today.year]
    closed = sorted(y["year"] for y in years if y["closed"] and not y["signed_off"])
    return {"close": (over or open_years or [None])[0], "sign_off": (closed or [None])[0]}


@bp.get("/")
@require("yearend.view")
def index():
    today = datetime.date.today()
    years = years_status()
    return render_template("yearend.html", years=years, today=today, first=first_open(years, today))


@bp.post("/close")
@require("yearend.close")
def close_page():
    try:
        year = form_year(request.form.get("year"))
        _plan, commit = close(year)
        flash(f"{year} closed" + (f" (commit {commit[:12]})." if commit else ": nothing changed since the last close."), "ok")
    except Refused as exc:
        flash(str(exc), "error")
    return redirect(url_for("yearend.index"), 303)


@bp.post("/sign-off")
@require("yearend.sign_off")
def sign_page():
    try:
        year = form_year(request.form.get("year"))
        row = sign(year, parse_date(request.form.get("opinion_date"), "opinion date"), request.form.get("on_behalf_of") or None,
                   request.form.get("opinion") or "unmodified")
        behalf = f" on behalf of {row.on_behalf_of}" if row.on_behalf_of else ""
        flash(f"{year} signed off by {row.auditor}{behalf}; the year is locked.", "ok")
    except Refused as exc:
        flash(str(exc), "error")
    return redirect(url_for("yearend.index"), 303)
