"""Contributions per State Party for a work-plan year, and their history.

Received is counted by ``reports.base.contribution_postings`` (income and the
advance liability, so the year-end recognition nets out and reversals cancel);
pledged, received and outstanding of the year come from
``ledger.finance.pledges.pledge_status`` (the one reading of ``isu-pledge`` entries
and of foreign-currency pledges: a pledge in EUR is valued at the rate the
State's own payments achieved, unknown -- ``pledged`` None, ``fx_pending`` --
until something is paid). One pass over the entries builds the advances for
the next year and the whole States x years history, by the same counting rule
(checked equal to ``pledge_status`` for the year).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from beancount.core import data

from ledger import conventions
from ledger.finance import pledges
from ledger.money import ZERO, cents

from reports.base import contribution_postings, display_name, header, year_end
from reports.model import ContributionRow, ContributionsReport, HistoryRow


def unidentified_in(entries: list, year: int, as_of: datetime.date) -> Decimal:
    """Receipts in suspense booked in ``year`` by ``as_of`` (credits positive)."""
    total = ZERO
    for entry in entries:
        if entry.date > as_of:
            break
        if entry.date.year != year or not isinstance(entry, data.Transaction):
            continue
        for posting in entry.postings:
            if posting.account == conventions.UNIDENTIFIED and posting.units is not None:
                total -= posting.units.number
    return cents(total)


def contributions_report(books, year: int, as_of: datetime.date | None = None, *,
                         commit: str | None = None, ledger_dir: Path | str | None = None) -> ContributionsReport:
    """The contributions report of work-plan ``year`` as of ``as_of``.

    Rows are the States that pledged or paid for the year (or paid in advance
    for the next one); ``history`` covers every work-plan year with a receipt
    up to the year reported, each counted by the same ``as_of``.
    """
    head = header(books, "contributions", year, as_of, commit)
    as_of = head.as_of
    entries = books.entries
    received: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    receipts: dict[str, int] = defaultdict(int)
    advance_cutoff = min(as_of, year_end(year))
    advance: dict[str, Decimal] = defaultdict(Decimal)
    for entry, posting, state, wp_year in contribution_postings(entries, as_of):
        received[wp_year][state] -= posting.units.number
        if wp_year == year and (entry.meta or {}).get(conventions.META_KIND) != "recognition":
            receipts[state] += 1
        if wp_year == year + 1 and entry.date <= advance_cutoff:
            advance[state] -= posting.units.number
    status = {row.state_party: row for row in pledges.pledge_status(entries, year, as_of)}

    ledger_dir = ledger_dir or getattr(books, "ledger_dir", None)
    names: dict[str, str] = {}

    def name(iso3: str) -> str:
        if iso3 not in names:
            names[iso3] = display_name(ledger_dir, iso3)
        return names[iso3]

    states = sorted({*(s for s, r in status.items() if r.pledge_ids or r.received),
                     *(s for s, v in advance.items() if v)})
    rows = []
    for state in states:
        row = status.get(state)
        got = cents(row.received if row else ZERO)
        pledged = None if row is not None and row.pledged is None else cents(row.pledged if row else ZERO)
        rows.append(ContributionRow(
            state_party=state,
            name=name(state),
            pledged=pledged,
            received=got,
            outstanding=None if pledged is None else cents(row.outstanding if row else ZERO),
            advance_next_year=cents(advance.get(state, ZERO)),
            receipts=receipts.get(state, 0),
            pledged_original={c: cents(a) for c, a in sorted(row.pledged_original.items())} if row else {},
            fx_pending=bool(row and row.fx_pending),
        ))

    years = tuple(sorted(y for y in received if y <= year and any(received[y].values())))
    history_states = sorted({s for y in years for s, v in received[y].items() if v})
    history = tuple(
        HistoryRow(
            state_party=s,
            name=name(s),
            by_year={y: cents(received[y].get(s, ZERO)) for y in years},
            total=cents(sum((received[y].get(s, ZERO) for y in years), ZERO)),
        )
        for s in history_states
    )
    return ContributionsReport(
        header=head,
        rows=tuple(rows),
        unidentified=unidentified_in(entries, year, as_of),
        total_pledged=cents(sum((r.pledged for r in rows if r.pledged is not None), ZERO)),
        total_received=cents(sum((r.received for r in rows), ZERO)),
        total_outstanding=cents(sum((r.outstanding for r in rows if r.outstanding is not None), ZERO)),
        total_advance_next_year=cents(sum((r.advance_next_year for r in rows), ZERO)),
        history_years=years,
        history=history,
        history_totals={y: cents(sum((h.by_year[y] for h in history), ZERO)) for y in years},
    )
