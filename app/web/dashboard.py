"""The dashboard: the year's position at a glance - received against budget
and pledges, the financial security buffer against its target, the bank
balance, the last import and the review queue, and whether every backup
remote holds the books. Every figure comes from the report models
(``reports/``) that feed the downloads, so the page and the Committee's PDF
cannot disagree."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from beancount.core import data
from flask import Blueprint, render_template, request
from sqlalchemy import select

from app.web import charts
from app.web.auth import db, require
from app.web.db import ImportBatch
from app.web.views import book_years, books, default_year, ledger_dir, parse_year
from ledger import conventions
from ledger.store import gitrepo

bp = Blueprint("dashboard", __name__)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def bank_balance(entries, as_of: datetime.date) -> Decimal:
    """The bank account's balance at the end of ``as_of``."""
    return sum(
        (p.units.number for e in entries if isinstance(e, data.Transaction) and e.date <= as_of
         for p in e.postings if p.account == conventions.BANK and p.units is not None),
        Decimal("0.00"),
    )


def receipts_by_month(entries, year: int) -> list[tuple[str, Decimal]]:
    """Money received on the bank account per booking month of ``year``
    (credits to the bank that are contributions, identified or not)."""
    months: dict[int, Decimal] = defaultdict(Decimal)
    for e in entries:
        if not isinstance(e, data.Transaction) or e.date.year != year:
            continue
        if not any(conventions.is_contribution_account(p.account) or p.account == conventions.UNIDENTIFIED for p in e.postings):
            continue
        for p in e.postings:
            if p.account == conventions.BANK and p.units is not None and p.units.number > 0:
                months[e.date.month] += p.units.number
    return [(MONTHS[m - 1], months.get(m, Decimal(0))) for m in range(1, 13)]


def last_import() -> dict | None:
    """The latest booked import: from the app's batches, else the ledger's git log
    (imports run from the command line are not in SQL)."""
    batch = db().scalars(select(ImportBatch).where(ImportBatch.status == "booked").order_by(ImportBatch.id.desc()).limit(1)).first()
    if batch is not None:
        return {"when": batch.decided_at, "who": batch.user.name, "what": ", ".join(f["name"] for f in batch.files), "commit": batch.commit}
    try:
        line = gitrepo.log(ledger_dir(), "-1", "--grep=^import ", "--format=%H%x1f%ad%x1f%an%x1f%s", "--date=iso-strict").strip()
    except gitrepo.GitError:
        return None
    if not line:
        return None
    sha, when, who, subject = line.split("\x1f", 3)
    return {"when": datetime.datetime.fromisoformat(when), "who": who, "what": subject.removeprefix("import "), "commit": sha}


def position(year: int) -> dict:
    """Everything the dashboard shows for ``year``; also the API's /position."""
    from importers.review import review_items
    from reports.budget import budget_report
    from reports.buffer import buffer_report
    from reports.contributions import contributions_report

    b = books()
    contributions = contributions_report(b, year, ledger_dir=ledger_dir())
    budget = budget_report(b, year)
    buffer = buffer_report(b, year)
    # Never "as at" a day still to come: a year not yet begun or still running is shown as at today.
    as_of = min(contributions.header.as_of, datetime.date.today())
    return {
        "year": year,
        "as_of": as_of,
        "status": contributions.header.status,
        "bank_balance": bank_balance(b.entries, as_of),
        "received": contributions.total_received,
        "pledged": contributions.total_pledged,
        "outstanding": contributions.total_outstanding,
        "unidentified": contributions.unidentified,
        "budget": budget.total_final,
        "spent": budget.total_actual,
        "buffer_balance": buffer.balance,
        "buffer_target": buffer.target,
        "buffer_ratio": buffer.funded_ratio,
        "months_covered": buffer.months_covered,
        "review_count": len(review_items(b.entries)),
        "ledger_errors": len(b.errors),
        "contributions": contributions,
        "years": book_years(b.entries),
    }


def funding_outlook(b, year: int, status: str) -> dict | None:
    """The outlook card of a year still open (preliminary): the share of the
    budget secured (received + pledged), the overdue pledges; None otherwise."""
    from ledger.money import rounded
    from reports.outlook import outlook_report

    if status != "preliminary":
        return None
    report = outlook_report(b, year)
    share = None if report.secured_share is None else rounded(report.secured_share * 100, "0.1")
    return {"report": report, "secured_percent": share,
            "overdue_count": sum(1 for s in report.states if s.overdue)}


def backup_status() -> list | None:
    """The backup remotes (level or behind, and why); None when git cannot say."""
    from ledger.store import backup

    try:
        return backup.status(ledger_dir())
    except gitrepo.GitError:
        return None


@bp.get("/")
@require("dashboard")
def index():
    b = books()
    year = parse_year(request.args.get("year"), fallback=default_year(b.entries))
    pos = position(year)
    top = sorted(pos["contributions"].rows, key=lambda r: r.received, reverse=True)[:10]
    return render_template(
        "dashboard.html",
        pos=pos,
        year=year,
        outlook=funding_outlook(b, year, pos["status"]),
        last=last_import(),
        backups=backup_status(),
        monthly=charts.bar_chart(f"Receipts by month, {year} (CHF)", receipts_by_month(b.entries, year)),
        versus=charts.pair_chart(
            "Received vs budget (CHF)", "received", "budget",
            [(str(year), pos["received"], pos["budget"])],
        ),
        states=charts.pair_chart(
            "Largest contributors: received vs pledged (CHF)", "received", "pledged",
            [(r.state_party, r.received, r.pledged or Decimal(0)) for r in top],
        ),
        buffer=charts.gauge("Financial security buffer", pos["buffer_balance"], pos["buffer_target"]),
    )
