"""The Annual Financial Report: preliminary for the present year, audited for
a signed-off one.

Sections: income (contributions by State Party for the work-plan year,
unidentified receipts, interest), expenditure by budget line against the
approved budget (IPSAS 24: original, final, actual, difference), the fund
balance from opening to closing, the buffer, a forecast to 31 December
(preliminary only) and the notes (FX, charges, deferrals, unidentified
receipts, corrections to prior years).

Two bases, both shown and reconciled in a note: the contributions table is
by *work-plan year* (the ISU's reporting basis), the fund balance by
*booking date* (what the bank and the books hold), so that opening + surplus
= closing is exactly the net assets (bank, GICHD clearing, less deferred
contributions) on ``as_of``. An audited report is computed from the books as
they were signed: every figure is dated in the year, which the lock freezes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from ledger import conventions
from ledger.money import ZERO, cents

from reports.base import header, is_recognition, wp_year_of
from reports.budget import budget_report
from reports.buffer import buffer_report, remaining_share
from reports.contributions import contributions_report
from reports.model import PRELIMINARY, AnnualReport, Forecast, FundBalance, Note


@dataclass
class _Books:
    """The booking-date figures of the year, gathered in one pass."""

    opening: Decimal = ZERO  # net assets before 1 January
    closing: Decimal = ZERO  # net assets at as_of
    contributions_booked: Decimal = ZERO
    unidentified: Decimal = ZERO
    interest: Decimal = ZERO
    charges: Decimal = ZERO
    charges_on_receipts: Decimal = ZERO
    expenditure: Decimal = ZERO
    other_equity: Decimal = ZERO
    buffer_opening: Decimal = ZERO
    buffer_closing: Decimal = ZERO
    recognised: Decimal = ZERO  # advances recognised in income this year
    fx_receipts: int = 0
    fx_chf: Decimal = ZERO
    fx_currencies: set = field(default_factory=set)
    late: list = field(default_factory=list)  # (state, wp_year, designated, amount)
    corrections: int = 0
    unidentified_count: int = 0


def _is_net_asset(account: str) -> bool:
    return account.startswith(("Assets:", "Liabilities:"))


def _gather(entries: list, year: int, as_of: datetime.date) -> _Books:  # noqa: C901
    start = datetime.date(year, 1, 1)
    b = _Books()
    for entry in entries:
        if entry.date > as_of:
            break
        if not isinstance(entry, data.Transaction):
            continue
        in_year = entry.date >= start
        kind = (entry.meta or {}).get(conventions.META_KIND)
        if in_year and kind == "correction":
            b.corrections += 1
        receipt = any(conventions.is_contribution_account(p.account) for p in entry.postings)
        for posting in entry.postings:
            if posting.units is None:
                continue
            number, account = posting.units.number, posting.account
            if _is_net_asset(account):
                b.closing += number
                if not in_year:
                    b.opening += number
            if account == conventions.BUFFER:
                b.buffer_closing -= number
                if not in_year:
                    b.buffer_opening -= number
            if not in_year:
                continue
            meta = posting.meta or {}
            if account == conventions.UNIDENTIFIED:
                b.unidentified -= number
                b.unidentified_count += 1
            elif account.startswith(conventions.CONTRIBUTIONS + ":"):
                b.contributions_booked -= number
                if is_recognition(entry):
                    b.recognised -= number
                wp_year = wp_year_of(meta)
                if not is_recognition(entry) and (meta.get(conventions.META_DESIGNATED_YEAR) is not None or (wp_year and wp_year < year)):
                    b.late.append((meta.get(conventions.META_STATE_PARTY), wp_year, meta.get(conventions.META_DESIGNATED_YEAR), cents(-number)))
                instructed = str(meta.get(conventions.META_INSTRUCTED) or "")
                if instructed and not instructed.endswith(conventions.CURRENCY):
                    b.fx_receipts += 1
                    b.fx_chf -= number
                    b.fx_currencies.add(instructed.split()[-1])
            elif account.startswith("Income:"):  # interest, and any other income account
                b.interest -= number
            elif account == conventions.BANK_CHARGES:
                b.charges += number
                if receipt:
                    b.charges_on_receipts += number
            elif account.startswith(conventions.EXPENSES + ":"):
                b.expenditure += number
            elif account.startswith("Expenses:"):
                b.expenditure += number
            elif account.startswith("Equity:"):
                b.other_equity -= number
    return b


def _notes(report_year: int, b: _Books, contributions, advance_next: Decimal) -> tuple[Note, ...]:
    m = cents
    notes = [
        Note("Basis of preparation",
             "Modified cash basis: contributions are income when received, attributed to the State Party and "
             "work-plan year; pledges are shown against receipts and are not income. Figures in CHF."),
        Note("Foreign currency",
             f"{b.fx_receipts} receipt(s) instructed in {', '.join(sorted(b.fx_currencies)) or 'no foreign currency'} "
             "are booked at the CHF amount the bank credited; instructed amounts and rates are kept as metadata.",
             m(b.fx_chf)),
        Note("Bank charges",
             "Charges deducted by the bank from receipts are expenditure; contributions are shown gross "
             f"(charges on receipts CHF {m(b.charges_on_receipts)}).", m(b.charges)),
        Note("Deferrals",
             f"Contributions received for {report_year + 1} are deferred (liability) and recognised on "
             f"1 January {report_year + 1}; contributions received earlier for {report_year} and recognised "
             f"this year: CHF {m(b.recognised)}.", advance_next),
        Note("Unidentified receipts",
             f"{b.unidentified_count} receipt(s) booked in suspense pending identification of the State Party.",
             m(b.unidentified)),
    ]
    if b.late:
        parts = "; ".join(
            f"{state} CHF {amount}" + (f" (meant for {int(designated)})" if designated is not None else f" for {wp}")
            for state, wp, designated, amount in b.late
        )
        notes.append(Note("Contributions for prior years",
                          f"Receipts booked this year for earlier work-plan years: {parts}.",
                          m(sum((a for *_, a in b.late), ZERO))))
    if b.corrections:
        notes.append(Note("Corrections to prior years", f"{b.corrections} correction transaction(s) booked this year."))
    notes.append(Note(
        "Work-plan year and booking basis",
        f"Contributions for work-plan year {report_year} (CHF {contributions.total_received}) and contribution "
        f"income booked in {report_year} (CHF {m(b.contributions_booked)}) differ by the advances and late "
        "payments in the notes above.",
        m(contributions.total_received - b.contributions_booked)))
    return tuple(notes)


def annual_report(books, year: int, as_of: datetime.date | None = None, *, commit: str | None = None) -> AnnualReport:
    """The Annual Financial Report of ``year`` as of ``as_of``."""
    head = header(books, "annual", year, as_of, commit)
    as_of = head.as_of
    contributions = contributions_report(books, year, as_of, commit=commit)
    budget = budget_report(books, year, as_of, commit=commit)
    buffer = buffer_report(books, year, as_of, commit=commit, budget=budget, contributions=contributions)
    b = _gather(books.entries, year, as_of)
    income = cents(b.contributions_booked + b.unidentified + b.interest)
    expenditure = cents(b.expenditure + b.charges)
    surplus = income - expenditure
    fund = FundBalance(
        opening=cents(b.opening),
        income=income,
        expenditure=expenditure,
        surplus=surplus,
        other_equity=cents(b.other_equity),
        closing=cents(b.closing),
        buffer_opening=cents(b.buffer_opening),
        buffer_closing=cents(b.buffer_closing),
        unrestricted_closing=cents(b.closing - b.buffer_closing),
    )
    forecast = None
    if head.status == PRELIMINARY:
        forecast = Forecast(
            remaining_expenditure=cents(budget.total_final * remaining_share(year, as_of)),
            outstanding_pledges=contributions.total_outstanding,
            scenarios=buffer.scenarios,
        )
    return AnnualReport(
        header=head,
        contributions=contributions,
        contributions_booked=cents(b.contributions_booked),
        unidentified=cents(b.unidentified),
        interest=cents(b.interest),
        total_income=income,
        budget=budget,
        bank_charges=cents(b.charges),
        total_expenditure=expenditure,
        fund_balance=fund,
        buffer=buffer,
        forecast=forecast,
        notes=_notes(year, b, contributions, contributions.total_advance_next_year),
    )
