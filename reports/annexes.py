"""The annexes to the financial statements: who paid what and when, the
status of contributions over the years, and the books the report came from."""

from __future__ import annotations

from collections import defaultdict

from reports.base import contribution_postings, is_recognition
from reports.model import AUDITED, ContributionsReport, ReportHeader, Table
from reports.tables import pledge_cells


def receipt_dates(entries: list, year: int, as_of) -> dict[str, list]:
    """The dates of each State's receipts for work-plan ``year`` by ``as_of``."""
    out: dict[str, list] = defaultdict(list)
    for entry, _posting, state, wp_year in contribution_postings(entries, as_of):
        if wp_year == year and not is_recognition(entry) and entry.date not in out[state]:
            out[state].append(entry.date)
    return out


def contributions_annex(entries: list, r: ContributionsReport, states_parties: int) -> Table:
    y = r.header.year
    dates = receipt_dates(entries, y, r.header.as_of)
    paying = sum(1 for row in r.rows if row.received > 0)
    return Table(
        key="Annex 1",
        title=f"Annex 1 — Contributions for the {y} work plan, by State Party (CHF)",
        columns=("State Party", "Received on", "Pledged", "Received", "Outstanding"),
        rows=tuple((row.name, ", ".join(d.isoformat() for d in dates.get(row.state_party, ())),
                    *pledge_cells(row), row.received, row.outstanding if row.pledged_original else None)
                   for row in r.rows),
        totals=("Total", "", r.total_pledged, r.total_received, r.total_outstanding),
        note=(f"{paying} of {states_parties} States Parties contributed to the {y} work plan. "
              "“—”: no pledge recorded. Receipts not yet attributed to a State Party are in note 6."),
    )


def history_annex(r: ContributionsReport) -> Table:
    years = r.history_years
    return Table(
        key="Annex 2",
        title="Annex 2 — Contributions received by work-plan year (CHF)",
        columns=("Work-plan year", "Received", "Contributing States", "Received after the year was closed"),
        rows=tuple((y, r.history_totals[y], sum(1 for h in r.history if h.by_year.get(y)), r.history_later.get(y))
                   for y in years),
        note=("Each closed year shows its audited figure, never restated; a receipt for it after it was closed "
              "counts in the year it was received and is shown apart (“—”: none)."),
    )


def books_annex(h: ReportHeader) -> Table:
    rows = [
        ("Reporting date", h.as_of),
        ("Status", "Audited" if h.status == AUDITED else "Preliminary, unaudited"),
        ("Ledger fingerprint (SHA-256)", h.ledger_sha256),
        ("Ledger commit", h.commit or "not in git"),
    ]
    if h.audit is not None:
        rows += [("Fingerprint signed off by the auditor", h.audit.fingerprint),
                 ("Books unchanged since the sign-off", "yes" if h.audit.fingerprint_ok else "NO")]
    return Table(key="Annex 3", title="Annex 3 — The books these statements were computed from",
                 columns=("Item", "Value"), rows=tuple(rows))


def annexes(books, head: ReportHeader, contributions: ContributionsReport, states_parties: int) -> tuple[Table, ...]:
    return (contributions_annex(books.entries, contributions, states_parties), history_annex(contributions),
            books_annex(head))
