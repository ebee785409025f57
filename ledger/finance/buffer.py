"""The financial security buffer: a reserve in equity, its policy and moves.

The States Parties decided that the ISU keeps a reserve against late or
missing contributions. Its policy is ledger data, so a change of policy is
dated, cites its decision and is on the auditor's record::

    2016-01-01 custom "isu-buffer-policy" "months" 3
      decision: "14th Meeting of the States Parties (2015)"

Kinds: ``"amount" 500000.00 CHF`` (a fixed target), ``"share" 0.25`` (of
the year's final budget), ``"months" 3`` (months of expenditure). The policy
in force on a date is the last one dated on or before it.

"Months of expenditure" uses the actual expenditure (every ``Expenses:``
posting) of the twelve months ending on the date considered (the year end for
a past year), divided by twelve: the real cost of running the ISU, not a
budget, and not distorted by where in the year one stands.

Allocations and drawdowns are transactions between the fund balance and the
reserve, each citing its decision (``isu_kind: "buffer"``; year close books
``isu_kind: "close"`` with ``closes_year``)::

    2025-12-31 * "Allocation to the financial security buffer"
      isu_kind: "buffer"
      decision: "Coordinating Committee, 2025-11-20"
      Equity:FundBalance                           50000.00 CHF
      Equity:Reserves:FinancialSecurityBuffer     -50000.00 CHF

The buffer's balance is the (credit) balance of the reserve account, shown
as a positive number.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from ledger import conventions
from ledger.money import ZERO, cents, grouped, parse, rounded

KINDS = ("amount", "share", "months")
MAX_MONTHS = Decimal(36)


class BufferRefused(Exception):
    """A buffer policy or movement that cannot be recorded (one line)."""



def close_allocation(before: Decimal, target: Decimal | None, surplus: Decimal) -> Decimal:
    """What close-year moves into the buffer (negative: draws from it).

    A surplus fills the buffer up to its target (no target: nothing); the
    rest is carried forward in the fund balance. A deficit is covered from
    the buffer as far as it holds; the rest reduces the fund balance. The one
    statement of the policy: ``close-year`` books it and the buffer report's
    forecast applies it.
    """
    zero = Decimal(0)
    if surplus >= 0:
        room = zero if target is None else max(target - before, zero)
        return min(surplus, room)
    return -min(-surplus, max(before, zero))

@dataclass(frozen=True)
class BufferPolicy:
    kind: str  # one of KINDS
    value: Decimal  # CHF for "amount", a fraction for "share", months for "months"
    decision: str
    date: datetime.date


@dataclass(frozen=True)
class BufferMovement:
    date: datetime.date
    amount: Decimal  # positive: allocation to the buffer; negative: drawdown
    kind: str  # "allocation" | "drawdown"
    decision: str
    narration: str
    closes_year: int | None


def _parse_policy(entry: data.Custom) -> BufferPolicy | None:
    from ledger.plugins.isu_rules import custom_values

    values = custom_values(entry)
    if len(values) != 2 or values[0] not in KINDS:
        return None
    kind, value = values
    if kind == "amount":
        if not isinstance(value, Amount) or value.currency != conventions.CURRENCY:
            return None
        value = value.number
    elif not isinstance(value, Decimal):
        return None
    return BufferPolicy(kind, value, str((entry.meta or {}).get(conventions.META_DECISION) or ""), entry.date)


def policies(entries: Iterable) -> list[BufferPolicy]:
    return [
        p
        for p in (
            _parse_policy(e) for e in entries if isinstance(e, data.Custom) and e.type == conventions.CUSTOM_BUFFER_POLICY
        )
        if p is not None
    ]


def policy(entries: Iterable, as_of: datetime.date) -> BufferPolicy | None:
    """The policy in force on ``as_of`` (None if none was ever set)."""
    found = [p for p in policies(entries) if p.date <= as_of]
    return found[-1] if found else None


def target(entries: list, year: int, as_of: datetime.date | None = None) -> Decimal | None:
    """The buffer's target for ``year`` under the policy in force on
    ``as_of`` (default: the year's end); None without a policy."""
    from ledger.finance.budgets import budget_lines, total

    year_end = datetime.date(year, 12, 31)
    as_of = min(as_of or year_end, year_end)
    rule = policy(entries, as_of)
    if rule is None:
        return None
    if rule.kind == "amount":
        return cents(rule.value)
    if rule.kind == "share":
        return cents(rule.value * total(budget_lines(entries, year, as_of)))
    return cents(rule.value * monthly_expenditure(entries, year, as_of))


def monthly_expenditure(entries: list, year: int, as_of: datetime.date | None = None) -> Decimal:
    """A month of expenditure: the year's final budget (the last decision by
    ``as_of``) / 12 - the same basis at the close and in the preliminary
    report; a year without a budget, its expenditure in the calendar year / 12."""
    from ledger.finance.budgets import budget_lines, total
    from ledger.finance.yearend import year_result

    year_end = datetime.date(year, 12, 31)
    budget = total(budget_lines(entries, year, min(as_of or year_end, year_end)))
    if budget:
        return budget / 12
    return year_result([e for e in entries if e.date <= (as_of or year_end)], year)[1] / 12


def balance(entries: Iterable, as_of: datetime.date) -> Decimal:
    """The buffer's balance at the end of ``as_of`` (positive = reserve held)."""
    total = ZERO
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date <= as_of:
            for p in entry.postings:
                if p.account == conventions.BUFFER and p.units is not None:
                    total -= p.units.number
    return total


def movements(entries: Iterable, year: int) -> list[BufferMovement]:
    """Every allocation and drawdown dated in ``year``."""
    from ledger.plugins.isu_rules import as_year

    found = []
    for entry in entries:
        if not isinstance(entry, data.Transaction) or entry.date.year != year:
            continue
        amount = -sum((p.units.number for p in entry.postings if p.account == conventions.BUFFER and p.units), ZERO)
        if amount == 0:
            continue
        meta = entry.meta or {}
        found.append(
            BufferMovement(
                entry.date,
                amount,
                "allocation" if amount > 0 else "drawdown",
                str(meta.get(conventions.META_DECISION) or ""),
                entry.narration or "",
                as_year(meta.get(conventions.META_CLOSES_YEAR)),
            )
        )
    return found


def months_covered(entries: list, year: int, as_of: datetime.date) -> Decimal | None:
    """How many months of expenditure (``monthly_expenditure``) the buffer
    covers on ``as_of`` (None without a budget or spending)."""
    monthly = monthly_expenditure(entries, year, as_of)
    if monthly <= 0:
        return None
    return rounded(balance(entries, as_of) / monthly, "0.1")


# --- entries --------------------------------------------------------------------


def parse_policy_value(kind: str, text: str) -> Decimal:
    """The value of a policy of ``kind`` from text (``25%`` or ``0.25`` for a share)."""
    if kind not in KINDS:
        raise BufferRefused(f"--kind {kind}: not one of {', '.join(KINDS)}")
    raw = str(text).strip().replace("'", "")
    percent = raw.endswith("%")
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise BufferRefused(f"--value {text}: not a number") from None
    if not value.is_finite() or value <= 0:
        raise BufferRefused(f"--value {text}: must be a positive number")
    if percent:
        if kind != "share":
            raise BufferRefused(f"--value {text}: a percentage is only for --kind share")
        value = value / 100
    if kind == "share" and value > 1:
        raise BufferRefused(f"--value {text}: a share of the budget is at most 1 (100%)")
    if kind == "months" and value > MAX_MONTHS:
        raise BufferRefused(f"--value {text}: more than {MAX_MONTHS} months")
    if kind == "amount":
        try:
            value = parse(raw)
        except ValueError as exc:
            raise BufferRefused(f"--value {exc}") from None
    return value


def _decision(text: str) -> str:
    decision = " ".join((text or "").split())
    if not decision:
        raise BufferRefused("--decision: the buffer's policy and movements cite the decision behind them")
    return decision


def policy_entry(kind: str, value: Decimal, decision: str, date: datetime.date) -> data.Custom:
    meta = data.new_metadata("<isu-ledger buffer>", 0)
    meta[conventions.META_DECISION] = _decision(decision)
    typed = ValueType(Amount(value, conventions.CURRENCY), Amount) if kind == "amount" else ValueType(value, Decimal)
    return data.Custom(meta, date, conventions.CUSTOM_BUFFER_POLICY, [ValueType(kind, str), typed])


def movement_entry(
    amount: Decimal,
    decision: str,
    date: datetime.date,
    *,
    kind: str = "buffer",
    closes_year: int | None = None,
    narration: str | None = None,
) -> data.Transaction:
    """A transfer of ``amount`` from the fund balance to the buffer (a
    negative amount draws the buffer down into the fund balance)."""
    meta = data.new_metadata("<isu-ledger buffer>", 0)
    meta[conventions.META_KIND] = kind
    meta[conventions.META_DECISION] = _decision(decision)
    if closes_year is not None:
        meta[conventions.META_CLOSES_YEAR] = Decimal(closes_year)
    if narration is None:
        narration = (
            "Allocation to the financial security buffer" if amount > 0 else "Drawdown of the financial security buffer"
        )
    units = Amount(amount, conventions.CURRENCY)
    return data.Transaction(
        meta,
        date,
        "*",
        None,
        narration,
        data.EMPTY_SET,
        data.EMPTY_SET,
        [
            data.Posting(conventions.FUND_BALANCE, units, None, None, None, None),
            data.Posting(conventions.BUFFER, -units, None, None, None, None),
        ],
    )


def _lowest_balance_from(entries: Iterable, date: datetime.date) -> Decimal:
    """The lowest end-of-day balance on or after ``date``: a drawdown must
    not make any later day negative (a later drawdown may already exist)."""
    moves: dict[datetime.date, Decimal] = {}
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                if p.account == conventions.BUFFER and p.units is not None:
                    moves[entry.date] = moves.get(entry.date, ZERO) - p.units.number
    running = sum((v for d, v in moves.items() if d <= date), ZERO)
    lowest = running
    for day in sorted(d for d in moves if d > date):
        running += moves[day]
        lowest = min(lowest, running)
    return lowest


def plan_movement(entries: list, amount: Decimal, decision: str, date: datetime.date, draw: bool) -> data.Transaction:
    """An allocation (or, with ``draw``, a drawdown) checked against the
    balance: the buffer never goes below zero."""
    if amount <= 0:
        raise BufferRefused(f"--amount {amount}: must be positive")
    if draw:
        available = _lowest_balance_from(entries, date)
        if amount > available:
            raise BufferRefused(
                f"--amount {amount}: the buffer holds {grouped(available)} CHF on {date}; it cannot go below zero"
            )
        amount = -amount
    return movement_entry(amount, decision, date)
