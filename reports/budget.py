"""Budget against actual expenditure by budget line (the IPSAS 24 columns).

Original and final budget come from ``ledger.finance.budgets.budget_lines`` (the one
reading of the ``custom "budget"`` entries and their revisions); actual is the
expenditure the host reported, booked to ``Expenses:Budget:<line>`` in the
year by ``as_of``. A line with expenditure and no budget is shown with a zero
budget rather than dropped, so that the totals are the books' totals.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from beancount.core import data

from ledger.finance import budgets
from ledger import conventions
from ledger.money import ZERO, cents

from reports.base import header, ratio
from reports.model import BudgetLine, BudgetReport


def actual_by_account(entries: list, year: int, as_of: datetime.date) -> dict[str, Decimal]:
    """Expenditure per budget-line account booked in ``year`` by ``as_of``."""
    prefix = conventions.EXPENSES + ":"
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if entry.date > as_of:
            break
        if entry.date.year != year or not isinstance(entry, data.Transaction) or conventions.is_closing(entry):
            continue
        for posting in entry.postings:
            if posting.account.startswith(prefix) and posting.units is not None:
                totals[posting.account] += posting.units.number
    return totals


def budget_report(books, year: int, as_of: datetime.date | None = None, *, commit: str | None = None) -> BudgetReport:
    """Budget vs actual for work-plan ``year`` as of ``as_of`` (default: the
    latest date in the books for the year)."""
    head = header(books, "budget", year, as_of, commit)
    entries = books.entries
    planned = {line.account: line for line in budgets.budget_lines(entries, year, head.as_of)}
    actual = actual_by_account(entries, year, head.as_of)
    order = {f"{conventions.EXPENSES}:{leaf}": i for i, leaf in enumerate(conventions.BUDGET_LINES)}
    accounts = sorted({*planned, *actual}, key=lambda a: (order.get(a, len(order)), a))
    lines = []
    for account in accounts:
        plan = planned.get(account)
        original = cents(plan.original if plan else ZERO)
        final = cents(plan.final if plan else ZERO)
        spent = cents(actual.get(account, ZERO))
        lines.append(BudgetLine(
            line=budgets.line_name(account),
            account=account,
            original=original,
            final=final,
            actual=spent,
            difference=final - spent,
            utilisation=ratio(spent, final, "0.0001"),
        ))
    return BudgetReport(
        header=head,
        lines=tuple(lines),
        total_original=cents(sum((line.original for line in lines), ZERO)),
        total_final=cents(sum((line.final for line in lines), ZERO)),
        total_actual=cents(sum((line.actual for line in lines), ZERO)),
        total_difference=cents(sum((line.difference for line in lines), ZERO)),
    )
