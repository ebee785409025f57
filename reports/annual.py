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
from ledger.money import ZERO, cents, grouped

from reports.base import header, is_recognition, received_to, wp_year_of, year_end
from reports.budget import budget_report
from reports.buffer import buffer_report, remaining_share
from reports.contributions import contributions_report
from reports.financial import YearBasis, financial_statements
from reports.model import PRELIMINARY, AnnualReport, Forecast, FundBalance, Note
from reports.note_facts import note_facts, states_parties


@dataclass
class _YearFigures:
    """The booking-date figures of a year (see the module docstring), added
    up one transaction at a time by ``add``."""

    year: int
    opening: Decimal = ZERO  # net assets before 1 January
    closing: Decimal = ZERO  # net assets at as_of
    contributions_booked: Decimal = ZERO
    unidentified: Decimal = ZERO
    interest: Decimal = ZERO
    negative_interest: Decimal = ZERO  # interest the bank charged: an expense
    charges: Decimal = ZERO
    charges_on_receipts: Decimal = ZERO
    expenditure: Decimal = ZERO  # the budget lines (Expenses:Budget:*)
    other_expenditure: Decimal = ZERO  # any other expense account
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

    def add(self, entry: data.Transaction) -> None:
        """Count one transaction dated by as_of: every one moves the balances,
        those dated in the year also the income and expenditure."""
        in_year = entry.date.year >= self.year  # from 1 January to as_of
        if in_year and (entry.meta or {}).get(conventions.META_KIND) == "correction":
            self.corrections += 1
        receipt = any(conventions.is_contribution_account(p.account) for p in entry.postings)
        for posting in entry.postings:
            if posting.units is None:
                continue
            self._add_to_balances(posting.account, posting.units.number, in_year)
            if in_year:
                self._add_to_result(entry, posting, receipt)

    def _add_to_balances(self, account: str, number: Decimal, in_year: bool) -> None:
        if account.startswith(("Assets:", "Liabilities:")):  # net assets
            self.closing += number
            if not in_year:
                self.opening += number
        if account == conventions.BUFFER:
            self.buffer_closing -= number
            if not in_year:
                self.buffer_opening -= number

    def _add_to_result(self, entry: data.Transaction, posting: data.Posting, receipt: bool) -> None:
        number, account = posting.units.number, posting.account
        if account == conventions.UNIDENTIFIED:
            self.unidentified -= number
            self.unidentified_count += 1
        elif account.startswith(conventions.CONTRIBUTIONS + ":"):
            self._add_contribution(entry, number, posting.meta or {})
        elif account.startswith("Income:") and number > 0:  # interest charged by the bank
            self.negative_interest += number
        elif account.startswith("Income:"):  # interest, and any other income account
            self.interest -= number
        elif account == conventions.BANK_CHARGES:
            self.charges += number
            if receipt:
                self.charges_on_receipts += number
        elif account.startswith(conventions.EXPENSES + ":"):
            self.expenditure += number
        elif account.startswith("Expenses:"):
            self.other_expenditure += number
        elif account.startswith("Equity:"):
            self.other_equity -= number

    def _add_contribution(self, entry: data.Transaction, number: Decimal, meta: dict) -> None:
        self.contributions_booked -= number
        recognition = is_recognition(entry)
        if recognition:
            self.recognised -= number
        wp_year = wp_year_of(meta)
        designated = meta.get(conventions.META_DESIGNATED_YEAR)
        if not recognition and (designated is not None or (wp_year and wp_year < self.year)):
            self.late.append((meta.get(conventions.META_STATE_PARTY), wp_year, designated, cents(-number)))
        instructed = str(meta.get(conventions.META_INSTRUCTED) or "")
        if instructed and not instructed.endswith(conventions.CURRENCY):
            # A reversal cancels its original (policy 6): the pair and the re-sent payment count once.
            self.fx_receipts += 1 if number < 0 else -1
            self.fx_chf -= number
            self.fx_currencies.add(instructed.split()[-1])


def _year_figures(entries: list, year: int, as_of: datetime.date) -> _YearFigures:
    """The booking-date figures of ``year``: one pass over the transactions
    dated by ``as_of`` (the entries are sorted by date)."""
    figures = _YearFigures(year)
    for entry in entries:
        if entry.date > as_of:
            break
        if isinstance(entry, data.Transaction) and not conventions.is_closing(entry):
            figures.add(entry)
    return figures


def _notes(report_year: int, figures: _YearFigures, contributions, advance_next: Decimal) -> tuple[Note, ...]:
    notes = [
        Note("Basis of preparation",
             "Modified cash basis: contributions are income when received, attributed to the State Party and "
             "work-plan year; pledges are shown against receipts and are not income. Figures in CHF."),
        Note("Foreign currency",
             f"{figures.fx_receipts} receipt(s) instructed in {', '.join(sorted(figures.fx_currencies)) or 'no foreign currency'} "
             "are booked at the CHF amount the bank credited; instructed amounts and rates are kept as metadata.",
             cents(figures.fx_chf)),
        Note("Bank charges",
             "Charges deducted by the bank from receipts are expenditure; contributions are shown gross "
             f"(charges on receipts CHF {grouped(figures.charges_on_receipts)}).", cents(figures.charges)),
        Note("Deferrals",
             f"Contributions received for {report_year + 1} are deferred (liability) and recognised on "
             f"1 January {report_year + 1}; contributions received earlier for {report_year} and recognised "
             f"this year: CHF {grouped(figures.recognised)}.", advance_next),
        Note("Unidentified receipts",
             f"{figures.unidentified_count} receipt(s) booked in suspense pending identification of the State Party.",
             cents(figures.unidentified)),
    ]
    if figures.late:
        parts = "; ".join(
            f"{state} CHF {grouped(amount)}" + (f" (meant for {int(designated)})" if designated is not None else f" for {wp}")
            for state, wp, designated, amount in figures.late
        )
        notes.append(Note("Contributions for prior years",
                          f"Receipts booked this year for earlier work-plan years: {parts}.",
                          cents(sum((a for *_, a in figures.late), ZERO))))
    if figures.corrections:
        notes.append(Note("Corrections to prior years", f"{figures.corrections} correction transaction(s) booked this year."))
    notes.append(Note(
        "Work-plan year and booking basis",
        f"Contributions for work-plan year {report_year} (CHF {grouped(contributions.total_received)}) and contribution "
        f"income booked in {report_year} (CHF {grouped(figures.contributions_booked)}) differ by the advances and late "
        "payments in the notes above.",
        cents(contributions.total_received - figures.contributions_booked)))
    return tuple(notes)


def _fund(figures: _YearFigures) -> FundBalance:
    income = cents(figures.contributions_booked + figures.unidentified + figures.interest)
    expenditure = cents(figures.expenditure + figures.other_expenditure + figures.charges + figures.negative_interest)
    return FundBalance(
        opening=cents(figures.opening),
        income=income,
        expenditure=expenditure,
        surplus=income - expenditure,
        other_equity=cents(figures.other_equity),
        closing=cents(figures.closing),
        buffer_opening=cents(figures.buffer_opening),
        buffer_closing=cents(figures.buffer_closing),
        unrestricted_closing=cents(figures.closing - figures.buffer_closing),
    )


def _basis(figures: _YearFigures, as_of: datetime.date, budget) -> YearBasis:
    return YearBasis(
        year=figures.year, as_of=as_of, fund=_fund(figures),
        contributions_booked=cents(figures.contributions_booked), unidentified=cents(figures.unidentified),
        interest=cents(figures.interest), negative_interest=cents(figures.negative_interest),
        bank_charges=cents(figures.charges), other_expenditure=cents(figures.other_expenditure), budget=budget,
    )


def _prior(books, year: int, commit: str | None) -> YearBasis | None:
    """The prior year's figures at its 31 December, when the books hold it."""
    first = next((e.date.year for e in books.entries if isinstance(e, data.Transaction)), None)
    if first is None or first >= year:
        return None
    as_of = year_end(year - 1)
    budget = budget_report(books, year - 1, as_of, commit=commit)
    return _basis(_year_figures(books.entries, year - 1, as_of), as_of, budget)


def annual_report(books, year: int, as_of: datetime.date | None = None, *, commit: str | None = None) -> AnnualReport:
    """The Annual Financial Report of ``year`` as of ``as_of``."""
    head = header(books, "annual", year, as_of, commit)
    receipts_to = received_to(books.entries, as_of, head.as_of)
    as_of = head.as_of
    contributions = contributions_report(books, year, as_of, commit=commit, receipts_to=receipts_to)
    budget = budget_report(books, year, as_of, commit=commit)
    buffer = buffer_report(books, year, as_of, commit=commit, budget=budget, contributions=contributions)
    figures = _year_figures(books.entries, year, as_of)
    this = _basis(figures, as_of, budget)
    fund = this.fund
    forecast = None
    if head.status == PRELIMINARY:
        forecast = Forecast(
            remaining_expenditure=cents(budget.total_final * remaining_share(year, as_of)),
            outstanding_pledges=contributions.total_outstanding,
            scenarios=buffer.scenarios,
        )
    facts = note_facts(books, head, figures, contributions, buffer)
    statements = financial_statements(books, head, this, _prior(books, year, commit), contributions, buffer, facts,
                                      states_parties(books))
    return AnnualReport(
        header=head,
        contributions=contributions,
        contributions_booked=this.contributions_booked,
        unidentified=this.unidentified,
        interest=this.interest,
        total_income=fund.income,
        budget=budget,
        bank_charges=this.bank_charges,
        total_expenditure=fund.expenditure,
        fund_balance=fund,
        buffer=buffer,
        forecast=forecast,
        notes=_notes(year, figures, contributions, contributions.total_advance_next_year),
        statements=statements,
        negative_interest=this.negative_interest,
        other_expenditure=this.other_expenditure,
    )
