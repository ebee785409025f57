"""The approved work plan and budget: one ``custom "budget"`` per line and year.

The Meeting of the States Parties approves the ISU's budget per work-plan
year and budget line; later decisions revise it. Both are ledger entries in
the form Fava understands, so an auditor sees budget vs actual in Fava too::

    2025-01-01 custom "budget" Expenses:Budget:Staff "yearly" 520000.00 CHF
      wp_year: 2025
      work_plan: "core"
      decision: "approved by the 22nd Meeting of the States Parties"
      decided: 2024-11-29

Every entry of a year — the original and each revision — is dated 1 January
of that year, and ``decided`` carries the date of the decision. Fava takes,
for each day, the last budget entry dated on or before it; if a revision were
dated on its decision day, Fava's yearly figure would blend the original and
the revision pro rata. With every entry on 1 January, Fava's year shows the
final budget. Revisions are appended in decision order (we refuse a revision
decided before one already recorded), so the last entry of the day in the
file is the latest decision, which is the one Fava uses.

The original budget is the first decision; the final budget (as of a date)
is the last decision taken by then.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from beancount.core import account as bc_account
from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from ledger import conventions
from ledger.finance.workbooks import Column, ExcelErrors, Template, raise_errors, read_rows
from ledger.money import ZERO

PERIOD = "yearly"

TEMPLATE = Template(
    sheet="Budget",
    title="ISU work plan and budget (approved amounts per work-plan year and budget line, CHF)",
    columns=(
        Column("year", "Year", "year", help="work-plan year the amount is for", example=2026, width=8),
        Column("line", "Budget line", "text", help="a budget line: " + ", ".join(conventions.BUDGET_LINES), example="Staff", width=18),
        Column("amount", "Amount", "money", help="approved amount in CHF for the year", example=520000, width=16),
        Column("work_plan", "Work plan", "text", required=False, help="work plan (default: core)", example="core", width=12),
        Column("explanation", "Variance explanation", "text", required=False,
               help="(after the year) why actual expenditure differs materially from the final budget",
               example="Fewer missions than planned", width=40),
    ),
    notes=(
        "One row per budget line and year; a multi-year work plan has one row per line for each year.",
        (
            "Upload the filled-in file on the Uploads page of the ISU ledger (preview first), naming the decision that "
            "approved new or revised figures (e.g. \"approved by the 22nd Meeting of the States Parties\")."
        ),
        "Importing figures for a line and year that already has a budget records a revision.",
        "Rows of a signed-off year are read back unchanged; changing one is refused.",
    ),
    choices={"line": conventions.BUDGET_LINES},
)


class BudgetRefused(Exception):
    """A budget that cannot be recorded; ``str()`` is one line."""


@dataclass(frozen=True)
class BudgetDecision:
    decided: datetime.date
    amount: Decimal
    decision: str


@dataclass(frozen=True)
class BudgetLine:
    """One budget line of a work-plan year: original and final amounts."""

    line: str
    account: str
    wp_year: int
    original: Decimal
    final: Decimal
    decisions: list[BudgetDecision] = field(default_factory=list)

    @property
    def revised(self) -> bool:
        return len(self.decisions) > 1


def budget_accounts(entries: Iterable) -> list[str]:
    """The open budget-line accounts (children of Expenses:Budget)."""
    prefix = conventions.EXPENSES + ":"
    return sorted({e.account for e in entries if isinstance(e, data.Open) and e.account.startswith(prefix)})


def line_account(line: str, accounts: Sequence[str]) -> str:
    """``Staff`` or ``Expenses:Budget:Staff`` -> the account, if it is open."""
    text = line.strip()
    account = text if text.startswith(conventions.EXPENSES + ":") else f"{conventions.EXPENSES}:{text}"
    for known in accounts:
        if known.casefold() == account.casefold():
            return known
    names = ", ".join(a.removeprefix(conventions.EXPENSES + ":") for a in accounts)
    raise ValueError(f"{line}: not a budget line (lines: {names})")


def line_name(account: str) -> str:
    return account.removeprefix(conventions.EXPENSES + ":")


def _year_of(entry: data.Custom) -> int | None:
    from ledger.plugins.isu_rules import as_year

    return as_year((entry.meta or {}).get(conventions.META_WP_YEAR))


def budget_entries(entries: Iterable) -> list[data.Custom]:
    """Every well-formed ``custom "budget"`` entry (Fava's shape)."""
    found = []
    for entry in entries:
        if isinstance(entry, data.Custom) and entry.type == conventions.CUSTOM_BUDGET and len(entry.values) >= 3:
            amount = entry.values[2].value
            if isinstance(entry.values[0].value, str) and isinstance(amount, Amount):
                found.append(entry)
    return found


def _decided(entry: data.Custom) -> datetime.date:
    value = (entry.meta or {}).get(conventions.META_DECIDED)
    return value if isinstance(value, datetime.date) else entry.date


def budget_lines(entries: Iterable, year: int, as_of: datetime.date | None = None) -> list[BudgetLine]:
    """The budget lines of work-plan ``year``: original (first decision) and
    final (last decision taken by ``as_of``; all decisions if None)."""
    by_account: dict[str, list[data.Custom]] = {}
    for entry in budget_entries(entries):
        wp_year = _year_of(entry) or entry.date.year
        if wp_year != year or (as_of is not None and _decided(entry) > as_of):
            continue
        by_account.setdefault(entry.values[0].value, []).append(entry)
    lines = []
    for account, group in sorted(by_account.items()):
        # Stable sort: same-day decisions keep their order in the books.
        group.sort(key=_decided)
        decisions = [
            BudgetDecision(_decided(e), e.values[2].value.number, str((e.meta or {}).get(conventions.META_DECISION) or ""))
            for e in group
        ]
        lines.append(
            BudgetLine(line_name(account), account, year, decisions[0].amount, decisions[-1].amount, decisions)
        )
    return lines


def total(lines: Iterable[BudgetLine]) -> Decimal:
    """The final budget of a year (sum of its lines)."""
    return sum((line.final for line in lines), ZERO)


def budget_entry(
    year: int, account: str, amount: Decimal, decision: str, decided: datetime.date, work_plan: str = conventions.DEFAULT_WORK_PLAN
) -> data.Custom:
    """The ``custom "budget"`` entry for one line and year (see module doc)."""
    meta = data.new_metadata("<isu-ledger budget>", 0)
    meta[conventions.META_WP_YEAR] = Decimal(int(year))
    meta[conventions.META_WORK_PLAN] = work_plan
    meta[conventions.META_DECISION] = decision
    meta[conventions.META_DECIDED] = decided
    return data.Custom(
        meta,
        datetime.date(int(year), 1, 1),
        conventions.CUSTOM_BUDGET,
        [
            ValueType(account, bc_account.TYPE),
            ValueType(PERIOD, str),
            ValueType(Amount(amount, conventions.CURRENCY), Amount),
        ],
    )


@dataclass(frozen=True)
class BudgetItem:
    year: int
    line: str
    amount: Decimal
    work_plan: str = conventions.DEFAULT_WORK_PLAN
    explanation: str | None = None  # of the line's variance; None: not given


def plan_budget(entries: list, items: Sequence[BudgetItem], decision: str, decided: datetime.date) -> list[data.Custom]:
    """The entries recording ``items`` under ``decision`` (an item equal to
    the line's current final budget is unchanged and skipped); raises
    BudgetRefused (one line) for an unknown line, a locked year, or a
    revision decided before the latest decision already recorded."""
    from ledger.plugins.year_lock import locked_years

    decision = " ".join((decision or "").split())
    accounts = budget_accounts(entries)
    locked = locked_years(entries)
    out = []
    seen: set[tuple[int, str]] = set()
    for item in items:
        try:
            account = line_account(item.line, accounts)
        except ValueError as exc:
            raise BudgetRefused(str(exc)) from None
        if item.year in locked:
            raise BudgetRefused(f"{item.year} is signed off: its budget cannot change")
        if (item.year, account) in seen:
            raise BudgetRefused(f"{line_name(account)} {item.year}: given twice")
        seen.add((item.year, account))
        current = _current(entries, item.year, account)
        explained = variance_explanations(entries, item.year).get(account)
        if item.explanation and item.explanation != explained:
            out.append(variance_entry(entries, item.year, account, item.explanation, decided))
        if current is not None and current.final == item.amount:
            continue  # unchanged: nothing to revise
        if current is not None and current.decisions[-1].decided > decided:
            raise BudgetRefused(
                f"{line_name(account)} {item.year}: a later decision ({current.decisions[-1].decided}) is "
                f"already recorded; a revision must be decided on or after it"
            )
        if not decision:  # asked only when a figure changes: an unchanged round trip needs none
            raise BudgetRefused(f"{line_name(account)} {item.year}: name the decision that approved the new figure "
                                "(e.g. 'MSP22 decision 5')")
        out.append(budget_entry(item.year, account, item.amount, decision, decided, item.work_plan))
    return out


def _current(entries: list, year: int, account: str) -> BudgetLine | None:
    for line in budget_lines(entries, year):
        if line.account == account:
            return line
    return None


def _unchanged(entries: list, v: dict, accounts: list[str]) -> bool:
    """A row that says what the books already say (a signed-off year read back from the template)."""
    try:
        account = line_account(v["line"], accounts)
    except ValueError:
        return False
    current = _current(entries, v["year"], account)
    explanation = v.get("explanation")
    return (current is not None and current.final == v["amount"]
            and explanation in (None, variance_explanations(entries, v["year"]).get(account)))


def read_budget_workbook(path: Path | str, entries: list) -> list[BudgetItem]:
    """The rows of a budget workbook, checked; ExcelErrors lists every bad row."""
    from ledger.plugins.year_lock import locked_years

    rows = read_rows(path, TEMPLATE)
    accounts = budget_accounts(entries)
    locked = locked_years(entries)
    items = []
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        v = row.values
        if v["line"] is not None:
            try:
                line_account(v["line"], accounts)
            except ValueError as exc:
                row.error("line", str(exc))
        if v["year"] in locked:
            if v["line"] is not None and _unchanged(entries, v, accounts):
                continue  # the template's signed-off rows come back as they were
            row.error("year", f"{v['year']} is signed off: its budget cannot change")
        if v.get("explanation"):
            v["explanation"] = " ".join(str(v["explanation"]).split())
            if any(ch in v["explanation"] for ch in '"\\'):
                row.error("explanation", "may not contain quotes or backslashes")
        work_plan = (v.get("work_plan") or conventions.DEFAULT_WORK_PLAN).lower()
        if work_plan not in conventions.WORK_PLANS:
            row.error("work_plan", f"{work_plan}: not a work plan ({', '.join(conventions.WORK_PLANS)})")
        if v["year"] is not None and v["line"] is not None:
            key = (v["year"], v["line"].casefold())
            if key in seen:
                row.error("line", f"{v['line']} {v['year']} is also on row {seen[key]}")
            seen.setdefault(key, row.number)
        if None not in (v["year"], v["line"], v["amount"]):
            items.append(BudgetItem(v["year"], v["line"], v["amount"], work_plan, v.get("explanation") or None))
    raise_errors(rows)
    if not rows:
        raise ExcelErrors([f"{path}: no budget rows"])
    return items


def template_rows(entries: list, year: int | None = None) -> list[dict]:
    """The current final budget as template rows (for a round trip)."""
    years = sorted({_year_of(e) or e.date.year for e in budget_entries(entries)})
    rows = []
    for y in years:
        if year is not None and y != year:
            continue
        explained = variance_explanations(entries, y)
        for line in budget_lines(entries, y):
            rows.append({"year": y, "line": line.line, "amount": line.final, "work_plan": conventions.DEFAULT_WORK_PLAN,
                         "explanation": explained.get(line.account)})
    return rows



# --- explanations of material variances (IPSAS 24) ----------------------------------

CUSTOM_VARIANCE = "isu-variance"


def variance_explanations(entries: Iterable, year: int) -> dict[str, str]:
    """Finance staff's explanation of the variance of each budget line of
    ``year``, by account: ``custom "isu-variance" YEAR ACCOUNT TEXT``, the
    latest one for a line wins."""
    from ledger.plugins.isu_rules import as_year

    out: dict[str, str] = {}
    for e in entries:
        if isinstance(e, data.Custom) and e.type == CUSTOM_VARIANCE and len(e.values) >= 3:
            if as_year(e.values[0].value) == year:
                out[str(e.values[1].value)] = str(e.values[2].value)
    return out


def variance_entry(entries: list, year: int, line: str, text: str, day: datetime.date) -> data.Custom:
    """The entry recording the explanation ``text`` of ``line``'s variance in ``year``."""
    from beancount.parser.grammar import ValueType

    from ledger.finance.inkind import InKindRefused, one_line
    from ledger.plugins.year_lock import locked_years

    try:
        account = line_account(line, budget_accounts(entries))
    except ValueError as exc:
        raise BudgetRefused(str(exc)) from None
    if year in locked_years(entries):
        raise BudgetRefused(f"{year} is signed off: its explanations cannot change")
    try:
        text = one_line(text, "explanation")
    except InKindRefused as exc:
        raise BudgetRefused(str(exc)) from None
    meta = data.new_metadata("<isu-ledger budget explain>", 0)
    values = [ValueType(Decimal(year), Decimal), ValueType(account, str), ValueType(text, str)]
    return data.Custom(meta, day, CUSTOM_VARIANCE, values)
