"""The report models: plain, immutable data computed from the books.

Every report is a dataclass with a ``header`` (what, for which year, as of
when, from which books) and its figures as ``Decimal`` CHF. Renderers (JSON,
XLSX, PDF, HTML) only format these objects; the web app shows the same ones.

``Table`` is the tabular view of a report section that the generic renderers
lay out (one XLSX sheet, one PDF/HTML table per ``Table``). It is still plain
data: cells are ``str``, ``int``, ``Decimal``, ``date`` or ``None``; which
columns are money is known from the cell type, never from formatting.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

PRELIMINARY = "preliminary"
AUDITED = "audited"

Cell = "str | int | Decimal | datetime.date | Percent | None"


@dataclass(frozen=True)
class Audit:
    """The auditor's sign-off of a year, as recorded in the books."""

    auditor: str
    opinion_date: datetime.date
    fingerprint: str  # as signed
    fingerprint_ok: bool  # the year's entries still hash to it
    opinion: str = "unmodified"  # unmodified | qualified | adverse | disclaimer
    firm: str | None = None  # the firm or office the auditor signed for


@dataclass(frozen=True)
class ReportHeader:
    report: str
    year: int
    as_of: datetime.date
    status: str  # PRELIMINARY | AUDITED
    currency: str
    ledger_sha256: str  # fingerprint of every file the load read
    commit: str | None  # git HEAD of the ledger directory
    audit: Audit | None = None
    state_party: str | None = None  # statements only

    @property
    def banner(self) -> str:
        if self.status == AUDITED:
            return "AUDITED"
        return f"PRELIMINARY — unaudited — as at {self.as_of.isoformat()}"


@dataclass(frozen=True)
class Table:
    key: str  # short name: XLSX sheet title, HTML anchor
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[Cell, ...] | None = None
    note: str = ""
    bold_rows: tuple[int, ...] = ()  # indexes into ``rows`` of subtotals and totals


@dataclass(frozen=True)
class Section:
    """A headed part of a report: text paragraphs, then tables.

    A cell or figure that is ``None`` has no value ("—" when shown); an empty
    string is a blank cell."""

    key: str
    title: str  # unique within the report
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    level: int = 1  # 1: a part of the report, 2: within the part before it


# --- contributions ------------------------------------------------------------


@dataclass(frozen=True)
class ContributionRow:
    state_party: str
    name: str
    pledged: Decimal | None  # CHF; None while a foreign-currency pledge has no rate
    received: Decimal
    outstanding: Decimal | None  # pledged - received, never below zero
    advance_next_year: Decimal  # received by as_of for year + 1
    receipts: int  # bank receipts counted (reversals included)
    pledged_original: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    fx_pending: bool = False


@dataclass(frozen=True)
class HistoryRow:
    state_party: str
    name: str
    by_year: dict[int, Decimal]
    total: Decimal


@dataclass(frozen=True)
class ContributionsReport:
    header: ReportHeader
    rows: tuple[ContributionRow, ...]
    unidentified: Decimal  # suspense receipts booked in the year, by as_of
    total_pledged: Decimal
    total_received: Decimal  # attributed to States for the work-plan year
    total_outstanding: Decimal
    total_advance_next_year: Decimal
    history_years: tuple[int, ...]
    history: tuple[HistoryRow, ...]
    history_totals: dict[int, Decimal]
    received_to: datetime.date | None = None  # receipts counted up to this date (policy 4)
    # Receipts for a year already closed, counted in the year received (policy 12): designated year -> CHF
    history_later: dict[int, Decimal] = field(default_factory=dict)


# --- budget -----------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    line: str  # leaf name, e.g. "Staff"
    account: str
    original: Decimal  # first budget entry of the year
    final: Decimal  # last revision dated by as_of
    actual: Decimal  # expenditure booked in the year, by as_of
    difference: Decimal  # final - actual (positive: under budget)
    utilisation: Decimal | None  # actual / final, 4 places (None without budget)


@dataclass(frozen=True)
class BudgetReport:
    header: ReportHeader
    lines: tuple[BudgetLine, ...]
    total_original: Decimal
    total_final: Decimal
    total_actual: Decimal
    total_difference: Decimal


# --- buffer -----------------------------------------------------------------


@dataclass(frozen=True)
class BufferPolicy:
    kind: str  # "amount" | "share" | "months"
    value: Decimal
    decision: str
    since: datetime.date


@dataclass(frozen=True)
class BufferMovement:
    date: datetime.date
    amount: Decimal  # + allocation, - drawdown
    balance: Decimal  # after the movement
    narration: str
    decision: str


@dataclass(frozen=True)
class BufferScenario:
    name: str  # "all_pledges_paid" | "no_pledges_paid"
    income: Decimal  # forecast income for the year
    expenditure: Decimal  # forecast expenditure for the year
    surplus: Decimal  # income - expenditure
    buffer_year_end: Decimal  # buffer after the year-end allocation/drawdown
    funded_ratio: Decimal | None


@dataclass(frozen=True)
class BufferReport:
    header: ReportHeader
    policy: BufferPolicy | None
    balance: Decimal
    target: Decimal
    funded_ratio: Decimal | None  # balance / target, 2 places
    monthly_expenditure: Decimal  # the basis of "months covered"
    months_covered: Decimal | None  # balance / monthly expenditure, 1 place
    movements: tuple[BufferMovement, ...]
    trend: tuple[tuple[int, Decimal], ...]  # buffer balance at each year end
    scenarios: tuple[BufferScenario, ...]  # empty once the year is over
    opening: Decimal = Decimal("0.00")  # balance at 1 January of the year


# --- statement of one State -------------------------------------------------------


@dataclass(frozen=True)
class StatementReceipt:
    date: datetime.date
    wp_year: int
    amount: Decimal  # gross CHF contribution (negative: a reversal)
    bank_ref: str
    payer: str
    remittance: str
    instructed: str  # "100000.00 EUR" or ""
    rate: str
    designated_year: int | None
    reversal_of: str


@dataclass(frozen=True)
class StatementYear:
    wp_year: int
    pledged: Decimal | None  # None while a foreign-currency pledge has no rate
    received: Decimal
    outstanding: Decimal | None
    receipts: tuple[StatementReceipt, ...]


@dataclass(frozen=True)
class StatementReport:
    header: ReportHeader
    name: str
    years: tuple[StatementYear, ...]
    total_received: Decimal


# --- the Annual Financial Report --------------------------------------------------


@dataclass(frozen=True)
class Note:
    title: str
    text: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class FundBalance:
    """Net assets (bank, GICHD clearing, minus deferred contributions), from
    the books by booking date: opening + surplus = closing."""

    opening: Decimal
    income: Decimal  # booked in the year, by as_of
    expenditure: Decimal
    surplus: Decimal
    other_equity: Decimal  # opening balances or corrections booked straight to equity
    closing: Decimal  # opening + surplus + other_equity = net assets at as_of
    buffer_opening: Decimal
    buffer_closing: Decimal
    unrestricted_closing: Decimal  # closing - buffer_closing


@dataclass(frozen=True)
class Forecast:
    """Preliminary reports: the year to 31 December, two scenarios."""

    remaining_expenditure: Decimal  # final budget x the share of the year left
    outstanding_pledges: Decimal
    scenarios: tuple[BufferScenario, ...]


@dataclass(frozen=True)
class AnnualReport:
    header: ReportHeader
    contributions: ContributionsReport
    contributions_booked: Decimal  # income booked in the year (books basis)
    unidentified: Decimal
    interest: Decimal  # interest and any other income account
    total_income: Decimal  # books basis: contributions booked + unidentified + interest
    budget: BudgetReport
    bank_charges: Decimal
    total_expenditure: Decimal  # budget lines + bank charges
    fund_balance: FundBalance
    buffer: BufferReport
    forecast: Forecast | None
    notes: tuple[Note, ...] = field(default=())
    statements: FinancialStatements | None = None
    negative_interest: Decimal = Decimal("0.00")  # interest charged by the bank (an expense)
    other_expenditure: Decimal = Decimal("0.00")  # expense accounts outside the budget lines


# --- the financial statements (IPSAS-style) ------------------------------------
#
# The Annual Financial Report as published: the Director's statement, the
# auditor's report, Statements I-IV with prior-year comparatives, numbered
# notes and annexes. Each is plain data; ``reports.tables`` lays them out.


@dataclass(frozen=True)
class Percent:
    """A ratio shown as a percentage (0.8734 -> "87.3 %"); a table cell type."""

    fraction: Decimal


@dataclass(frozen=True)
class Line:
    """One line of a statement: a label and its figures (current year, prior year)."""

    label: str
    amount: Decimal | None
    prior: Decimal | None = None
    level: int = 0  # 0: an item, 1: a subtotal, 2: a total
    note: int | None = None  # the number of the note that explains it


@dataclass(frozen=True)
class FinancialPosition:
    """Statement I at the reporting date, reconciled to the bank statement."""

    assets: tuple[Line, ...]
    liabilities: tuple[Line, ...]
    net_assets: Line
    fund_balance: tuple[Line, ...]  # buffer, unrestricted, total
    bank_balance: Decimal  # the ledger's bank account at the reporting date
    bank_statement_balance: Decimal | None  # the last statement's closing balance by then
    bank_statement_date: datetime.date | None


@dataclass(frozen=True)
class FinancialPerformance:
    """Statement II: receipts and expenditure of the year, prior year beside."""

    income: tuple[Line, ...]
    total_income: Line
    expenditure: tuple[Line, ...]  # by budget line, then charges
    total_expenditure: Line
    surplus: Line


@dataclass(frozen=True)
class NetAssetsMovement:
    label: str
    unrestricted: Decimal
    buffer: Decimal
    decision: str = ""

    @property
    def total(self) -> Decimal:
        return self.unrestricted + self.buffer


@dataclass(frozen=True)
class ChangesInNetAssets:
    """Statement III: opening, result, transfers to and from the buffer, closing."""

    opening: NetAssetsMovement
    movements: tuple[NetAssetsMovement, ...]
    closing: NetAssetsMovement


@dataclass(frozen=True)
class BudgetComparisonLine:
    line: str
    original: Decimal
    final: Decimal
    actual: Decimal
    difference: Decimal
    used: Percent | None
    material: bool  # over 10 % and CHF 5,000 of the final budget
    explanation: str  # recorded by finance staff; "" when none


@dataclass(frozen=True)
class BudgetComparison:
    """Statement IV (IPSAS 24): original, final, actual, difference, % used."""

    lines: tuple[BudgetComparisonLine, ...]
    total: BudgetComparisonLine
    decisions: tuple[tuple[datetime.date, str], ...]  # the approving decisions, in order


@dataclass(frozen=True)
class NumberedNote:
    number: int
    title: str
    paragraphs: tuple[str, ...]
    table: Table | None = None


@dataclass(frozen=True)
class FinancialStatements:
    entity: str  # the reporting entity, as on the cover
    convention: str
    certification: tuple[str, ...]  # the Director's statement
    auditor_report: tuple[str, ...]  # the auditor's report, or why there is none yet
    position: FinancialPosition
    performance: FinancialPerformance
    changes: ChangesInNetAssets
    budget: BudgetComparison
    notes: tuple[NumberedNote, ...]
    annexes: tuple[Table, ...]
    contributing_states: int
    states_parties: int
    prior_year: int | None  # the comparatives' year (None: the books hold none)


# --- funding outlook --------------------------------------------------------------


@dataclass(frozen=True)
class OutlookMonth:
    month: int  # 0: received before 1 January (advances), 1-12
    received: Decimal  # receipts for the work-plan year booked in the month
    cumulative: Decimal | None  # None: a month after the as-of date
    previous: tuple[Decimal | None, ...]  # cumulative for each earlier year at the same month (None: not kept)
    expected_pledges: Decimal  # unpaid pledges expected in the month (CHF at the pledges' rates)


@dataclass(frozen=True)
class OutlookState:
    state_party: str
    name: str
    received: Decimal
    pledged: Decimal | None  # None: no pledge (or one not valued)
    outstanding: Decimal | None
    expected: datetime.date | None  # the earliest expected date of its pledges
    overdue: bool
    usual: Decimal | None  # its average over the previous three work-plan years (None: paid none of them)
    usual_rest: Decimal = Decimal("0.00")  # its average paid after the same day of those years, to 31 December


@dataclass(frozen=True)
class OutlookScenario:
    name: str  # "all_pledges_paid" | "received_only" | "as_in_previous_years"
    label: str
    income_to_come: Decimal
    year_income: Decimal
    year_expenditure: Decimal
    surplus: Decimal
    fund_balance_year_end: Decimal
    buffer_year_end: Decimal


@dataclass(frozen=True)
class OutlookReport:
    header: ReportHeader
    budget: Decimal  # final budget of the year
    received: Decimal  # for the work-plan year, by as_of
    outstanding_pledges: Decimal
    secured: Decimal  # received + outstanding pledges
    secured_share: Decimal | None  # secured / budget
    previous_years: tuple[int, ...]
    previous_same_date: tuple[Decimal, ...]  # each previous year's receipts by the same day of its year
    months: tuple[OutlookMonth, ...]
    states: tuple[OutlookState, ...]
    overdue: Decimal
    unvalued_pledges: int  # foreign-currency pledges without a rate: not counted
    fund_balance_now: Decimal
    remaining_expenditure: Decimal
    scenarios: tuple[OutlookScenario, ...]
