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
from pathlib import Path

from beancount.core import data

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
    receipts = receipts_by_year(books.entries, state_party, year, head.as_of)
    pledged_years = {p.wp_year for p in pledges.pledges(books.entries)
                     if p.state_party == state_party and p.date <= head.as_of}
    years = tuple(
        _statement_year(books.entries, state_party, wp_year, tuple(receipts.get(wp_year, ())), head.as_of)
        for wp_year in sorted(set(receipts) | pledged_years)
    )
    return StatementReport(
        header=head,
        name=display_name(ledger_dir or getattr(books, "ledger_dir", None), state_party),
        years=years,
        total_received=cents(sum((y.received for y in years), ZERO)),
    )


def receipts_by_year(entries: list, state_party: str, year: int, as_of: datetime.date) -> dict[int, list[StatementReceipt]]:
    """The State's receipts by ``as_of`` for work-plan years up to ``year + 1``,
    by work-plan year (recognitions are not receipts; reversals are)."""
    receipts: dict[int, list[StatementReceipt]] = defaultdict(list)
    for entry, posting, state, wp_year in contribution_postings(entries, as_of):
        if state == state_party and wp_year <= year + 1 and not is_recognition(entry):
            receipts[wp_year].append(_receipt(entry, posting, wp_year))
    return receipts


def _receipt(entry: data.Transaction, posting: data.Posting, wp_year: int) -> StatementReceipt:
    """One receipt line; the posting's metadata first, then the transaction's."""
    meta, emeta = posting.meta or {}, entry.meta or {}

    def text(key: str, fallback: object = None) -> str:
        return str(meta.get(key) or fallback or "")

    designated = meta.get(conventions.META_DESIGNATED_YEAR)
    return StatementReceipt(
        date=entry.date,
        wp_year=wp_year,
        amount=cents(-posting.units.number),
        bank_ref=text(conventions.META_BANK_REF, emeta.get(conventions.META_BANK_REF)),
        payer=text(conventions.META_PAYER, entry.payee),
        remittance=text(conventions.META_REMITTANCE, entry.narration),
        instructed=text(conventions.META_INSTRUCTED),
        rate=text(conventions.META_RATE),
        designated_year=int(designated) if designated is not None else None,
        reversal_of=text(conventions.META_REVERSAL_OF),
    )


def _statement_year(entries: list, state_party: str, wp_year: int, receipts: tuple[StatementReceipt, ...],
                    as_of: datetime.date) -> StatementYear:
    """One work-plan year: the pledge (None while a foreign-currency pledge
    has no rate; zero without a pledge) against the receipts."""
    status = next((s for s in pledges.pledge_status(entries, wp_year, as_of) if s.state_party == state_party), None)
    received = cents(sum((r.amount for r in receipts), ZERO))
    if status is None:
        pledged = ZERO
    else:
        pledged = None if status.pledged is None else cents(status.pledged)
    return StatementYear(
        wp_year=wp_year,
        pledged=pledged,
        received=received,
        outstanding=None if pledged is None else max(pledged - received, ZERO),
        receipts=receipts,
    )
