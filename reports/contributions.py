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
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from beancount.core import data

from ledger import conventions
from ledger.finance import pledges
from ledger.money import ZERO, cents

from reports.base import contribution_postings, display_name, header, is_recognition, received_to, year_end
from reports.model import ContributionRow, ContributionsReport, HistoryRow


def unidentified_in(entries: list, year: int, as_of: datetime.date) -> Decimal:
    """Receipts in suspense booked in ``year`` by ``as_of`` (credits positive)."""
    total = ZERO
    for entry in entries:
        if entry.date > as_of:
            break
        if entry.date.year != year or not isinstance(entry, data.Transaction) or conventions.is_closing(entry):
            continue
        for posting in entry.postings:
            if posting.account == conventions.UNIDENTIFIED and posting.units is not None:
                total -= posting.units.number
    return cents(total)


@dataclass
class _Received:
    """Receipts by ``as_of``, counted once: CHF by work-plan year and State,
    the bank receipts of the year per State, and the advances paid by the
    year's end for the next year."""

    by_year: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    receipts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    advance: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    later: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # designated year -> CHF


def _received(entries: list, year: int, as_of: datetime.date, to: datetime.date) -> _Received:
    got = _Received()
    advance_cutoff = min(as_of, year_end(year))
    for entry, posting, state, wp_year in contribution_postings(entries, to):
        got.by_year[wp_year][state] -= posting.units.number
        designated = (posting.meta or {}).get(conventions.META_DESIGNATED_YEAR)
        if designated is not None and not is_recognition(entry):
            got.later[int(designated)] -= posting.units.number
        if wp_year == year and (entry.meta or {}).get(conventions.META_KIND) != "recognition":
            got.receipts[state] += 1
        if wp_year == year + 1 and entry.date <= advance_cutoff:
            got.advance[state] -= posting.units.number
    return got


def contributions_report(books, year: int, as_of: datetime.date | None = None, *,
                         commit: str | None = None, ledger_dir: Path | str | None = None,
                         receipts_to: datetime.date | None = None) -> ContributionsReport:
    """The contributions report of work-plan ``year`` as of ``as_of``.

    Rows are the States that pledged or paid for the year (or paid in advance
    for the next one); ``history`` covers every work-plan year with a receipt
    up to the year reported, each counted by the same date. Receipts count up
    to ``receipts_to`` (``reports.base.received_to``: without ``as_of``, every
    receipt in the books - a January receipt for last year's open work plan
    counts for it).
    """
    head = header(books, "contributions", year, as_of, commit)
    to = receipts_to or received_to(books.entries, as_of, head.as_of)
    as_of = head.as_of
    got = _received(books.entries, year, as_of, to)
    status = {row.state_party: row for row in pledges.pledge_status(books.entries, year, to)}
    name = _names(ledger_dir or getattr(books, "ledger_dir", None))
    states = sorted({*(s for s, r in status.items() if r.pledge_ids or r.received),
                     *(s for s, v in got.advance.items() if v)})
    rows = tuple(_row(state, name(state), status.get(state), got) for state in states)
    years, history = _history(got.by_year, year, name)
    return ContributionsReport(
        header=head,
        rows=rows,
        unidentified=unidentified_in(books.entries, year, as_of),
        total_pledged=_total(r.pledged for r in rows),
        total_received=_total(r.received for r in rows),
        total_outstanding=_total(r.outstanding for r in rows),
        total_advance_next_year=_total(r.advance_next_year for r in rows),
        history_years=years,
        history=history,
        history_totals={y: _total(h.by_year[y] for h in history) for y in years},
        received_to=to,
        history_later={y: cents(v) for y, v in sorted(got.later.items()) if v and y in years},
    )


def _names(ledger_dir: Path | str | None) -> Callable[[str], str]:
    """The display name of a State, looked up once per State."""

    @functools.cache
    def name(iso3: str) -> str:
        return display_name(ledger_dir, iso3)

    return name


def _row(state: str, name: str, status: pledges.PledgeStatus | None, got: _Received) -> ContributionRow:
    """A State's row; a State without a pledge has pledged and outstanding
    zero, one whose foreign-currency pledge has no rate yet ``None``."""
    if status is None:
        pledged, received, outstanding, original = ZERO, ZERO, ZERO, {}
    else:
        pledged, received, outstanding, original = status.pledged, status.received, status.outstanding, status.pledged_original
    return ContributionRow(
        state_party=state,
        name=name,
        pledged=None if pledged is None else cents(pledged),
        received=cents(received),
        outstanding=None if pledged is None else cents(outstanding),
        advance_next_year=cents(got.advance.get(state, ZERO)),
        receipts=got.receipts.get(state, 0),
        pledged_original={c: cents(a) for c, a in sorted(original.items())},
        fx_pending=bool(status and status.fx_pending),
    )


def _history(received: dict[int, dict[str, Decimal]], year: int,
             name: Callable[[str], str]) -> tuple[tuple[int, ...], tuple[HistoryRow, ...]]:
    """The work-plan years up to ``year`` with a receipt, and each State's
    receipts in them."""
    years = tuple(sorted(y for y in received if y <= year and any(received[y].values())))
    states = sorted({s for y in years for s, v in received[y].items() if v})
    history = tuple(
        HistoryRow(
            state_party=s,
            name=name(s),
            by_year={y: cents(received[y].get(s, ZERO)) for y in years},
            total=_total(received[y].get(s, ZERO) for y in years),
        )
        for s in states
    )
    return years, history


def _total(amounts: Iterable[Decimal | None]) -> Decimal:
    """The sum in cents of the amounts that are known (``None`` left out)."""
    return cents(sum((a for a in amounts if a is not None), ZERO))
