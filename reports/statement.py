"""What one State Party paid, by work-plan year, receipt by receipt.

The basis of the acknowledgement letters: every bank receipt attributed to
the State (dates, bank references, instructed amounts and rates, reversals),
grouped by work-plan year, with the year's pledge beside it. Recognition
transactions are not receipts (they move an advance into income) and are
left out; reversals are listed, with a negative amount, so the year's total
is what the State actually paid.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from ledger import conventions
from ledger.finance import pledges
from ledger.money import ZERO, cents

from reports.base import contribution_postings, display_name, header, is_recognition
from reports.model import StatementReceipt, StatementReport, StatementYear


def statement_report(books, year: int, state_party: str, as_of: datetime.date | None = None, *,
                     commit: str | None = None, ledger_dir: Path | str | None = None) -> StatementReport:
    """The statement of ``state_party`` for every work-plan year up to
    ``year`` (and the advance it paid for the next), receipts by ``as_of``."""
    state_party = state_party.upper()
    head = header(books, "statement", year, as_of, commit, state_party=state_party)
    receipts: dict[int, list[StatementReceipt]] = defaultdict(list)
    for entry, posting, state, wp_year in contribution_postings(books.entries, head.as_of):
        if state != state_party or wp_year > year + 1 or is_recognition(entry):
            continue
        meta, emeta = posting.meta or {}, entry.meta or {}
        designated = meta.get(conventions.META_DESIGNATED_YEAR)
        receipts[wp_year].append(StatementReceipt(
            date=entry.date,
            wp_year=wp_year,
            amount=cents(-posting.units.number),
            bank_ref=str(meta.get(conventions.META_BANK_REF) or emeta.get(conventions.META_BANK_REF) or ""),
            payer=str(meta.get(conventions.META_PAYER) or entry.payee or ""),
            remittance=str(meta.get(conventions.META_REMITTANCE) or entry.narration or ""),
            instructed=str(meta.get(conventions.META_INSTRUCTED) or ""),
            rate=str(meta.get(conventions.META_RATE) or ""),
            designated_year=int(designated) if designated is not None else None,
            reversal_of=str(meta.get(conventions.META_REVERSAL_OF) or ""),
        ))
    years = []
    pledged_years = {p.wp_year for p in pledges.pledges(books.entries) if p.state_party == state_party and p.date <= head.as_of}
    for wp_year in sorted(set(receipts) | {y for y in pledged_years if y <= year + 1}):
        status = next((s for s in pledges.pledge_status(books.entries, wp_year, head.as_of) if s.state_party == state_party), None)
        got = cents(sum((r.amount for r in receipts.get(wp_year, ())), ZERO))
        if status is None:
            pledged = ZERO
        else:
            pledged = None if status.pledged is None else cents(status.pledged)
        years.append(StatementYear(
            wp_year=wp_year,
            pledged=pledged,
            received=got,
            outstanding=None if pledged is None else max(pledged - got, ZERO),
            receipts=tuple(receipts.get(wp_year, ())),
        ))
    return StatementReport(
        header=head,
        name=display_name(ledger_dir or getattr(books, "ledger_dir", None), state_party),
        years=tuple(years),
        total_received=cents(sum((y.received for y in years), ZERO)),
    )


def contributing_states(books, year: int, as_of: datetime.date) -> list[str]:
    """States with a receipt counted for work-plan ``year`` (pack: one statement each)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for _, posting, state, wp_year in contribution_postings(books.entries, as_of):
        if wp_year == year:
            totals[state] -= posting.units.number
    return sorted(s for s, v in totals.items() if v)
