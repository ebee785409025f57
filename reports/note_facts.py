"""The facts the notes cite, gathered from the books and the year's reports
(``reports.notes`` writes them up)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from ledger.finance.pledges import pledge_status, pledges
from ledger.money import ZERO, cents, grouped

from reports.base import contribution_postings, display_name, is_recognition, year_end
from reports.financial import position
from reports.model import AUDITED, BufferReport, ContributionsReport, ReportHeader
from reports.tables import policy_text
from reports.notes import FuturePledge, LateReceipt, NoteFacts


def states_parties(books) -> int:
    from ledger.registry import Registry

    try:
        return len(Registry.load(books.ledger_dir).state_parties())
    except (OSError, ValueError):
        return 0


def _original(amounts: dict[str, Decimal]) -> str:
    return ", ".join(f"{grouped(v)} {c}" for c, v in sorted(amounts.items()))


def future_pledges(books, year: int, as_of: datetime.date) -> tuple[FuturePledge, ...]:
    later = sorted({p.wp_year for p in pledges(books.entries) if p.wp_year > year})
    out = []
    for wp_year in later:
        for s in pledge_status(books.entries, wp_year, as_of):
            if s.pledged_original:
                out.append(FuturePledge(wp_year, s.state_party, display_name(books.ledger_dir, s.state_party),
                                        _original(s.pledged_original), s.pledged))
    return tuple(sorted(out, key=lambda p: (p.wp_year, p.name)))


def receipts_after(entries: list, year: int, until: datetime.date) -> tuple[int, Decimal]:
    """Contribution receipts booked after 31 December ``year`` up to ``until``."""
    count, total = 0, ZERO
    seen = set()
    for entry, posting, _state, _wp in contribution_postings(entries, until):
        if entry.date > year_end(year) and not is_recognition(entry) and posting.units.number < 0:
            total -= posting.units.number
            if id(entry) not in seen:
                seen.add(id(entry))
                count += 1
    return count, cents(total)


def note_facts(books, head: ReportHeader, figures, contributions: ContributionsReport, buffer: BufferReport) -> NoteFacts:
    year, as_of = head.year, head.as_of
    statuses = pledge_status(books.entries, year, as_of)
    differences = [s.fx_difference for s in statuses if s.fx_difference is not None]
    after = (0, ZERO, None)
    if head.status == AUDITED and head.audit is not None:
        until = head.audit.opinion_date
        after = (*receipts_after(books.entries, year, until), until)
    return NoteFacts(
        contributions_for_year=contributions.total_received,
        contributions_booked=cents(figures.contributions_booked),
        advance_next_year=contributions.total_advance_next_year,
        recognised=cents(figures.recognised),
        fx_receipts=figures.fx_receipts,
        fx_currencies=tuple(sorted(figures.fx_currencies)),
        fx_chf=cents(figures.fx_chf),
        pledge_fx_difference=cents(sum(differences, ZERO)) if differences else None,
        outstanding_pledges=contributions.total_outstanding,
        unidentified=cents(figures.unidentified),
        unidentified_count=figures.unidentified_count,
        bank_charges=cents(figures.charges),
        charges_on_receipts=cents(figures.charges_on_receipts),
        negative_interest=cents(figures.negative_interest),
        buffer_policy=policy_text(buffer),
        buffer_target=buffer.target,
        buffer_balance=buffer.balance,
        buffer_opening=cents(figures.buffer_opening),
        buffer_funded=buffer.funded_ratio,
        buffer_months=buffer.months_covered,
        monthly_expenditure=buffer.monthly_expenditure,
        gichd_balance=position(books.entries, as_of).gichd,
        gichd_expenditure=cents(figures.expenditure),
        corrections=figures.corrections,
        late=tuple(LateReceipt(display_name(books.ledger_dir, s) if s else "unknown", wp, None if d is None else int(d), a)
                   for s, wp, d, a in figures.late),
        future_pledges=future_pledges(books, year, as_of),
        after_date=after,
    )
