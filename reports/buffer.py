"""The financial security buffer: balance, target, cover, movements, forecast.

The rules are ``ledger.finance.buffer``'s (the policy in force, the target, the
balance, the movements, a month of expenditure as the year's final budget / 12) and ``ledger.finance.yearend``'s (what close-year does
with a surplus or deficit); this module only assembles them for a date.

Forecast to 31 December, two scenarios (all outstanding pledges paid / none),
on the books basis close-year uses: income = every ``Income:`` posting of the
year to date (+ the outstanding pledges); expenditure = every ``Expenses:``
posting to date + the final budget x the share of the year still to run (the
budget's burn rate). At year end a surplus goes to the buffer up to its target
and a deficit is covered from it as far as it holds (``plan_close``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beancount.core import data

from ledger.finance import buffer as buf
from ledger import conventions
from ledger.finance.yearend import year_result
from ledger.money import ZERO, cents

from reports.base import header, ratio, year_end
from reports.model import BufferMovement, BufferPolicy, BufferReport, BufferScenario



def buffer_trend(entries: list, as_of: datetime.date) -> dict[int, Decimal]:
    """The buffer's balance at the end of every year with a movement, by
    ``as_of`` (the sum ``ledger.finance.buffer.balance`` takes, in one pass)."""
    balance, out = ZERO, {}
    for entry in entries:
        if entry.date > as_of:
            break
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if posting.account == conventions.BUFFER and posting.units is not None:
                    balance -= posting.units.number
                    out[entry.date.year] = cents(balance)
    return out


def every_year(trend: dict[int, Decimal], year: int) -> dict[int, Decimal]:
    """The year-end balances from the first year with a movement to ``year``,
    a year without movement at the balance it carried."""
    if not trend:
        return {}
    out, balance = {}, ZERO
    for y in range(min(trend), max(year, max(trend)) + 1):
        balance = trend.get(y, balance)
        out[y] = balance
    return out


def year_end_buffer(before: Decimal, target: Decimal | None, surplus: Decimal) -> Decimal:
    """The buffer after close-year with ``surplus`` (negative: a deficit),
    as ``ledger.finance.yearend.plan_close`` books it."""
    return cents(before + buf.close_allocation(before, target, surplus))


def scenarios(before: Decimal, target: Decimal | None, income: Decimal, spent: Decimal,
              remaining: Decimal, outstanding: Decimal) -> tuple[BufferScenario, ...]:
    """Both forecasts, from the buffer ``before`` the year's movements."""
    out = []
    for name, extra in (("all_pledges_paid", outstanding), ("no_pledges_paid", ZERO)):
        year_income = cents(income + extra)
        year_spending = cents(spent + remaining)
        surplus = year_income - year_spending
        end = year_end_buffer(before, target, surplus)
        out.append(BufferScenario(name, year_income, year_spending, surplus, end, ratio(end, target or ZERO)))
    return tuple(out)


def remaining_share(year: int, as_of: datetime.date) -> Decimal:
    """The share of ``year`` after ``as_of`` (0 once the year is over)."""
    end = year_end(year)
    if as_of >= end:
        return Decimal(0)
    start = datetime.date(year, 1, 1)
    days = Decimal((end - start).days + 1)
    left = Decimal((end - max(as_of, start - datetime.timedelta(days=1))).days)
    return left / days


def buffer_report(books, year: int, as_of: datetime.date | None = None, *, commit: str | None = None,
                  budget=None, contributions=None) -> BufferReport:
    """The buffer status of ``year`` as of ``as_of``, with the year-end forecast.

    ``budget`` and ``contributions`` (reports for the same year and date) may
    be passed by a caller that has them already (the annual report)."""
    from reports.budget import budget_report
    from reports.contributions import contributions_report

    head = header(books, "buffer", year, as_of, commit)
    as_of = head.as_of
    entries = books.entries
    rule = buf.policy(entries, as_of)
    target = buf.target(entries, year, as_of)
    trend = every_year(buffer_trend(entries, as_of), year)
    balance = cents(buf.balance(entries, as_of))
    earlier = [y for y in trend if y < year]
    running = trend[max(earlier)] if earlier else ZERO
    moves = []
    for m in buf.movements(entries, year):
        if m.date > as_of:
            break
        running += m.amount
        moves.append(BufferMovement(m.date, cents(m.amount), cents(running), m.narration, m.decision))
    monthly = cents(buf.monthly_expenditure(entries, year, as_of))
    forecast: tuple[BufferScenario, ...] = ()
    if as_of < year_end(year):
        budget = budget or budget_report(books, year, as_of, commit=commit)
        contributions = contributions or contributions_report(books, year, as_of, commit=commit)
        outstanding = contributions.total_outstanding
        income, spent, _ = year_result([e for e in entries if e.date <= as_of], year)
        remaining = cents(budget.total_final * remaining_share(year, as_of))
        already = sum((m.amount for m in moves), ZERO)
        forecast = scenarios(balance - already, target, cents(income), cents(spent), remaining, outstanding)
    return BufferReport(
        header=head,
        policy=None if rule is None else BufferPolicy(rule.kind, rule.value, rule.decision, rule.date),
        balance=balance,
        target=cents(target) if target is not None else ZERO,
        funded_ratio=ratio(balance, target) if target else None,
        monthly_expenditure=monthly,
        months_covered=buf.months_covered(entries, year, as_of),
        movements=tuple(moves),
        trend=tuple(sorted(trend.items())),
        scenarios=forecast,
        opening=cents(buf.balance(entries, datetime.date(year - 1, 12, 31))),
    )
