"""The financial statements of the Annual Financial Report (IPSAS-style).

What a small secretariat funded by voluntary contributions publishes, each
part built as plain data from figures the annual report already computed
(``reports.annual``), so every statement reconciles with the others:

* the Director's statement and the auditor's report (the opinion, auditor,
  firm and date recorded at sign-off);
* Statement I, financial position at the reporting date, its cash reconciled
  to the bank statement's closing balance; Statement II, financial
  performance by budget line; Statement III, changes in net assets
  (unrestricted and buffer apart, each transfer with its decision);
  Statement IV, budget and actual (IPSAS 24) with the approving decisions and
  the explanation of each material variance; each with the prior year beside;
* numbered notes and annexes (contributions by State with receipt dates, the
  status of contributions over the years, the books' fingerprint).

The basis is the ledger's: modified cash, amounts in CHF, the result by
booking date; contributions by work-plan year are the annexes' view, and
note 2 reconciles the two.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from ledger import conventions
from ledger.finance.budgets import budget_lines, variance_explanations
from ledger.finance.inkind import in_kind
from ledger.money import ZERO, cents, grouped

from reports.base import ratio
from reports.model import (
    AUDITED,
    BudgetComparison,
    BudgetComparisonLine,
    BudgetReport,
    BufferReport,
    ChangesInNetAssets,
    ContributionsReport,
    FinancialPerformance,
    FinancialPosition,
    FinancialStatements,
    FundBalance,
    Line,
    NetAssetsMovement,
    Percent,
    ReportHeader,
)
from reports.notes import NoteFacts, numbered_notes
from reports.annexes import annexes

ENTITY = "Implementation Support Unit"
CONVENTION = ("Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of "
              "Anti-Personnel Mines and on their Destruction")
HOST = "Geneva International Centre for Humanitarian Demining (GICHD)"

# IPSAS 24 asks for an explanation of material differences; the ISU's
# threshold: more than 10 % of the line's final budget and more than CHF 5,000.
MATERIAL_SHARE = Decimal("0.10")
MATERIAL_AMOUNT = Decimal("5000")

OPINIONS = {
    "unmodified": ("In the auditor's opinion, the financial statements present fairly, in all material respects, "
                   "the receipts and payments of the {entity} for the year ended 31 December {year} and its "
                   "financial position at that date, on the modified cash basis described in note 2."),
    "qualified": ("In the auditor's opinion, except for the matters described in the auditor's signed report, "
                  "the financial statements present fairly, in all material respects, the receipts and payments "
                  "of the {entity} for the year ended 31 December {year}, on the modified cash basis described "
                  "in note 2."),
    "adverse": ("In the auditor's opinion, because of the matters described in the auditor's signed report, the "
                "financial statements do not present fairly the receipts and payments of the {entity} for the "
                "year ended 31 December {year}."),
    "disclaimer": ("The auditor does not express an opinion on the financial statements of the {entity} for the "
                   "year ended 31 December {year}: the reasons are given in the auditor's signed report."),
}
OPINION_TITLES = {"unmodified": "Unmodified opinion", "qualified": "Qualified opinion",
                  "adverse": "Adverse opinion", "disclaimer": "Disclaimer of opinion"}


@dataclass(frozen=True)
class YearBasis:
    """What the statements need of one year, from ``reports.annual``."""

    year: int
    as_of: datetime.date
    fund: FundBalance
    contributions_booked: Decimal
    unidentified: Decimal
    interest: Decimal  # positive interest and other income
    negative_interest: Decimal  # interest charged by the bank (an expense)
    bank_charges: Decimal
    other_expenditure: Decimal  # expense accounts outside the budget lines
    budget: BudgetReport


def day_label(day: datetime.date) -> str:
    return f"{day.day} {day:%B} {day.year}"


# --- Statement I ----------------------------------------------------------------


def _balances(entries: list, as_of: datetime.date) -> dict[str, Decimal]:
    """Balance of every asset and liability account at the end of ``as_of``."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        if entry.date > as_of:
            break
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                if p.units is not None and p.account.startswith(("Assets:", "Liabilities:")):
                    out[p.account] += p.units.number
    return out


def _bank_statement(entries: list, as_of: datetime.date) -> tuple[Decimal | None, datetime.date | None]:
    """The closing balance of the last bank statement by ``as_of``: the balance
    assertion the importer wrote for it (dated the day after the statement)."""
    found = None
    for entry in entries:
        if entry.date > as_of + datetime.timedelta(days=1):
            break
        if isinstance(entry, data.Balance) and entry.account == conventions.BANK:
            found = entry
    if found is None:
        return None, None
    return cents(found.amount.number), found.date - datetime.timedelta(days=1)


@dataclass(frozen=True)
class _Position:
    bank: Decimal
    gichd: Decimal  # + advance to the GICHD, - owed to it
    unreconciled: Decimal
    other_assets: Decimal
    advance: Decimal  # contributions received in advance (a liability, positive)
    other_liabilities: Decimal

    @property
    def net(self) -> Decimal:
        return (self.bank + self.gichd + self.unreconciled + self.other_assets
                - self.advance - self.other_liabilities)


def position(entries: list, as_of: datetime.date) -> _Position:
    b = _balances(entries, as_of)
    bank = sum((v for k, v in b.items() if k.startswith("Assets:Bank:")), ZERO)
    other_assets = sum((v for k, v in b.items() if k.startswith("Assets:") and not k.startswith("Assets:Bank:")
                        and k not in (conventions.GICHD_CLEARING, conventions.UNRECONCILED)), ZERO)
    other_liabilities = -sum((v for k, v in b.items() if k.startswith("Liabilities:") and k != conventions.ADVANCE), ZERO)
    return _Position(cents(bank), cents(b[conventions.GICHD_CLEARING]), cents(b[conventions.UNRECONCILED]),
                     cents(other_assets), cents(-b[conventions.ADVANCE]), cents(other_liabilities))


def _lines(pairs, now: _Position, before: _Position | None) -> tuple[Line, ...]:
    """Lines with a figure this year or last (a line nobody ever used is left out)."""
    out = []
    for label, get, note in pairs:
        amount, prior = get(now), None if before is None else get(before)
        if amount or prior or note == "always":
            out.append(Line(label, amount, prior, note=None if note == "always" else note))
    return tuple(out)


def financial_position(entries: list, this: YearBasis, prior: YearBasis | None) -> FinancialPosition:
    now = position(entries, this.as_of)
    before = None if prior is None else position(entries, prior.as_of)
    assets = _lines((
        ("Cash at bank (UBS, Geneva)", lambda p: p.bank, "always"),
        ("Advance to the GICHD", lambda p: max(p.gichd, ZERO), 9),
        ("Receipts and payments being reconciled", lambda p: p.unreconciled, None),
        ("Other assets", lambda p: p.other_assets, None),
    ), now, before)
    liabilities = _lines((
        ("Contributions received in advance", lambda p: p.advance, 5),
        ("Owed to the GICHD", lambda p: max(-p.gichd, ZERO), 9),
        ("Other liabilities", lambda p: p.other_liabilities, None),
    ), now, before)
    net = Line("Net assets", now.net, None if before is None else before.net, level=2)
    buffer = Line("Financial security buffer", this.fund.buffer_closing,
                  None if prior is None else prior.fund.buffer_closing, note=8)
    unrestricted = Line("Unrestricted fund balance", now.net - this.fund.buffer_closing,
                        None if before is None else before.net - prior.fund.buffer_closing)
    total = Line("Fund balance", now.net, net.prior, level=2)
    statement_balance, statement_date = _bank_statement(entries, this.as_of)
    return FinancialPosition(assets, liabilities, net, (buffer, unrestricted, total), now.bank,
                             statement_balance, statement_date)


# --- Statement II -----------------------------------------------------------------


def _by_line(budget: BudgetReport) -> dict[str, Decimal]:
    return {b.line: b.actual for b in budget.lines}


def financial_performance(this: YearBasis, prior: YearBasis | None) -> FinancialPerformance:
    def line(label, get, note=None, level=0):
        amount, before = get(this), None if prior is None else get(prior)
        return Line(label, cents(amount), None if before is None else cents(before), level=level, note=note)

    income = [
        line("Voluntary contributions", lambda y: y.contributions_booked, 3),
        line("Receipts not yet attributed to a State Party", lambda y: y.unidentified, 6),
        line("Interest and other income", lambda y: y.interest),
    ]
    income = tuple(x for x in income if x.amount or x.prior or x.note == 3)
    total_income = line("Total receipts", lambda y: y.contributions_booked + y.unidentified + y.interest, level=2)
    names = list(dict.fromkeys([b.line for b in this.budget.lines]
                               + ([] if prior is None else [b.line for b in prior.budget.lines])))
    expenditure = [line(name, lambda y, n=name: _by_line(y.budget).get(n, ZERO)) for name in names]
    expenditure += [
        line("Other expenditure", lambda y: y.other_expenditure),
        line("Bank charges", lambda y: y.bank_charges, 7),
        line("Negative interest", lambda y: y.negative_interest, 7),
    ]
    expenditure = tuple(x for x in expenditure if x.amount or x.prior or x.label in names)
    total_expenditure = Line("Total expenditure", sum((x.amount for x in expenditure), ZERO),
                             None if prior is None else sum((x.prior or ZERO for x in expenditure), ZERO), level=2)
    surplus = Line("Surplus (deficit) for the year", total_income.amount - total_expenditure.amount,
                   None if prior is None else total_income.prior - total_expenditure.prior, level=2)
    return FinancialPerformance(income, total_income, expenditure, total_expenditure, surplus)


# --- Statement III ----------------------------------------------------------------


def changes_in_net_assets(this: YearBasis, buffer: BufferReport) -> ChangesInNetAssets:
    f = this.fund
    opening = NetAssetsMovement(f"Balance at 1 January {this.year}", f.opening - f.buffer_opening, f.buffer_opening)
    moves = [NetAssetsMovement("Surplus (deficit) for the year", f.surplus, ZERO)]
    for m in buffer.movements:
        if m.date.year == this.year and m.date <= this.as_of:
            label = ("Transfer to the buffer" if m.amount > 0 else "Transfer from the buffer") + f", {day_label(m.date)}"
            moves.append(NetAssetsMovement(label, -m.amount, m.amount, m.decision))
    if f.other_equity:
        moves.append(NetAssetsMovement("Other movements in net assets", f.other_equity, ZERO))
    closing = NetAssetsMovement(f"Balance at {day_label(this.as_of)}", f.closing - f.buffer_closing, f.buffer_closing)
    return ChangesInNetAssets(opening, tuple(moves), closing)


# --- Statement IV -----------------------------------------------------------------


def is_material(difference: Decimal, final: Decimal) -> bool:
    return abs(difference) > MATERIAL_AMOUNT and (not final or abs(difference) > abs(final) * MATERIAL_SHARE)


def budget_comparison(entries: list, budget: BudgetReport) -> BudgetComparison:
    year, as_of = budget.header.year, budget.header.as_of
    explained = variance_explanations(entries, year)
    lines = tuple(
        BudgetComparisonLine(b.line, b.original, b.final, b.actual, b.difference,
                             None if b.utilisation is None else Percent(b.utilisation),
                             is_material(b.difference, b.final), explained.get(b.account, ""))
        for b in budget.lines
    )
    used = ratio(budget.total_actual, budget.total_final, "0.0001")
    total = BudgetComparisonLine("Total", budget.total_original, budget.total_final, budget.total_actual,
                                 budget.total_difference, None if used is None else Percent(used), False, "")
    decisions = sorted({(d.decided, d.decision) for line in budget_lines(entries, year, as_of) for d in line.decisions})
    return BudgetComparison(lines, total, tuple(decisions))


# --- the Director's statement and the auditor's report --------------------------------


def certification(head: ReportHeader) -> tuple[str, ...]:
    year = head.year
    if head.status == AUDITED:
        period = f"for the year ended 31 December {year}"
    else:
        period = f"for the period from 1 January {year} to {day_label(head.as_of)} (preliminary, unaudited)"
    return (
        f"The financial statements of the {ENTITY} {period}, Statements I to IV and the notes that form part of "
        "them, were prepared under the Director's responsibility on the modified cash basis described in note 2, "
        "from the books of account kept by the ISU and the expenditure reported by its host, the GICHD.",
        "The Director is responsible for keeping proper books, for internal control over receipts and "
        "payments, and for the attribution of every contribution to the State Party that made it.",
        "To the best of the Director's knowledge the statements are complete and present fairly the receipts, "
        "payments and financial position of the ISU.",
        "Director, Implementation Support Unit — signature and date: ______________________",
    )


def auditor_report(head: ReportHeader) -> tuple[str, ...]:
    audit = head.audit
    if head.status != AUDITED or audit is None:
        return (
            "These statements are preliminary and have not been audited. The audited statements follow once "
            "the year is closed and the auditor has signed off.",
        )
    kind = audit.opinion if audit.opinion in OPINIONS else "unmodified"
    signer = audit.auditor + (f", {audit.firm}" if audit.firm else "")
    out = [
        f"{OPINION_TITLES[kind]}. " + OPINIONS[kind].format(entity=ENTITY, year=head.year),
        "Management's responsibility: the Director of the ISU is responsible for the preparation of the "
        "financial statements on the basis described in note 2 and for the internal control needed to keep "
        "them free from material misstatement.",
        "Auditor's responsibility: to express an opinion on the financial statements based on the audit.",
        f"Auditor: {signer}. Date of the opinion: {day_label(audit.opinion_date)}. This summary reproduces the "
        "opinion recorded in the books at sign-off; the auditor's signed report is the authoritative text.",
    ]
    if not audit.fingerprint_ok:
        out.append("WARNING: the books for this year changed after the sign-off; these figures are not the "
                   "ones the auditor signed.")
    return tuple(out)


# --- the whole set ----------------------------------------------------------------


def financial_statements(books, head: ReportHeader, this: YearBasis, prior: YearBasis | None,
                         contributions: ContributionsReport, buffer: BufferReport,
                         facts: NoteFacts, states_parties: int) -> FinancialStatements:
    entries = books.entries
    return FinancialStatements(
        entity=ENTITY,
        convention=CONVENTION,
        certification=certification(head),
        auditor_report=auditor_report(head),
        position=financial_position(entries, this, prior),
        performance=financial_performance(this, prior),
        changes=changes_in_net_assets(this, buffer),
        budget=budget_comparison(entries, this.budget),
        notes=numbered_notes(head, facts, in_kind(entries, head.year)),
        annexes=annexes(books, head, contributions, states_parties),
        contributing_states=sum(1 for row in contributions.rows if row.received > 0),
        states_parties=states_parties,
        prior_year=None if prior is None else prior.year,
    )


def amount_text(value: Decimal) -> str:
    """An amount in running text: CHF with thousands separators."""
    return f"CHF {grouped(value)}"
