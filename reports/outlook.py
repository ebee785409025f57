"""The funding outlook of a work-plan year: how much of the budget is
secured, who has pledged and not yet paid, and how the year may close.

Asked for by the 14th Meeting of the States Parties (2015) together with the
buffer: "measures to increase predictability of contributions". Every figure
is a sum of ledger entries: receipts are the contribution postings for the
work-plan year (``ledger.receipts``, as the contributions report counts
them; a recognition of an advance is not a second receipt), pledges are
valued at the rates recorded with them (``ledger.finance.pledges``), and the
year-end projection uses the rules of the buffer forecast and ``close-year``
(``reports.buffer``).

Scenarios to 31 December, from the fund balance (net assets) at the as-of
date, less the final budget for the part of the year still to run:

* ``all_pledges_paid``: every outstanding pledge arrives;
* ``received_only``: nothing more arrives;
* ``as_in_previous_years``: each State pays, between the as-of date and 31
  December, what it paid on average in the three previous work-plan years
  between the same day and the end of that year.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from ledger.finance import buffer as buf
from ledger.finance.pledges import pledge_status, pledges
from ledger.finance.yearend import year_result
from ledger.money import ZERO, cents

from reports.base import contribution_postings, display_name, header, is_recognition, ratio
from reports.budget import budget_report
from reports.buffer import remaining_share, year_end_buffer
from reports.financial import position
from reports.model import OutlookMonth, OutlookReport, OutlookScenario, OutlookState

HISTORY = 3  # previous years compared and averaged
SCENARIOS = {
    "all_pledges_paid": "Every outstanding pledge is paid",
    "received_only": "Nothing more is received",
    "as_in_previous_years": "Each State pays as in the previous three years",
}


def same_day(day: datetime.date, year: int) -> datetime.date:
    """``day`` in ``year`` (29 February becomes the 28th)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def receipts(entries: list, as_of: datetime.date) -> dict[int, list[tuple[datetime.date, str, Decimal]]]:
    """Every receipt by ``as_of`` per work-plan year: (date, State, CHF)."""
    out: dict[int, list] = defaultdict(list)
    for entry, posting, state, wp_year in contribution_postings(entries, as_of):
        if not is_recognition(entry):
            out[wp_year].append((entry.date, state, -posting.units.number))
    return out


def _month_of(day: datetime.date, year: int) -> int:
    if day.year < year:
        return 0
    return day.month if day.year == year else 12


def _cumulative(rows, year: int, until: datetime.date) -> list[Decimal]:
    """Cumulative receipts at the end of month 0 (before 1 January) to 12, by ``until``."""
    by_month = [ZERO] * 13
    for day, _state, amount in rows:
        if day <= until:
            by_month[_month_of(day, year)] += amount
    running, out = ZERO, []
    for amount in by_month:
        running += amount
        out.append(cents(running))
    return out


def _expected(entries: list, year: int) -> dict[str, datetime.date]:
    """The earliest expected date of each State's pledges for ``year``."""
    out: dict[str, datetime.date] = {}
    for p in pledges(entries, year):
        if p.expected is not None and (p.state_party not in out or p.expected < out[p.state_party]):
            out[p.state_party] = p.expected
    return out


def _usual(history: dict[int, list], year: int, as_of: datetime.date) -> tuple[dict, dict]:
    """Each State's average receipts over the previous work-plan years: in
    all, and between the same day as ``as_of`` and the end of that year."""
    usual: dict[str, Decimal] = defaultdict(lambda: ZERO)
    rest: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for y in range(year - HISTORY, year):
        after = same_day(as_of, as_of.year - (year - y))
        for day, state, amount in history.get(y, ()):
            usual[state] += amount / HISTORY
            if after < day <= datetime.date(y, 12, 31):
                rest[state] += amount / HISTORY
    return usual, rest


def _states(books, year: int, as_of: datetime.date, got: dict[str, Decimal], history: dict[int, list]):
    statuses = {s.state_party: s for s in pledge_status(books.entries, year, as_of)}
    expected = _expected(books.entries, year)
    usual, rest = _usual(history, year, as_of)
    out = []
    for state in sorted(set(got) | set(statuses) | {s for s, v in usual.items() if v > 0}):
        status = statuses.get(state)
        if status is not None and not status.pledged_original:
            status = None  # paid without a pledge
        outstanding = None if status is None else status.outstanding
        due = expected.get(state)
        out.append(OutlookState(
            state_party=state, name=display_name(books.ledger_dir, state), received=cents(got.get(state, ZERO)),
            pledged=None if status is None else status.pledged, outstanding=outstanding, expected=due,
            overdue=bool(outstanding and due is not None and due < as_of),
            usual=cents(usual[state]) if usual.get(state) else None,
            usual_rest=cents(rest.get(state, ZERO)),
        ))
    unvalued = sum(1 for s in statuses.values() if s.pledged_original and s.pledged is None)
    return out, unvalued


def _months(year: int, as_of: datetime.date, history: dict[int, list], states) -> tuple[OutlookMonth, ...]:
    now = _cumulative(history.get(year, ()), year, as_of)
    before = [_cumulative(history.get(year - k, ()), year - k, datetime.date(year - k, 12, 31))
              if history.get(year - k) else None for k in range(1, HISTORY + 1)]
    expected = [ZERO] * 13
    for s in states:
        if s.outstanding and not s.overdue:
            month = s.expected.month if s.expected is not None and s.expected.year == year else 12
            expected[month] += s.outstanding
    last = _month_of(as_of, year)
    out = []
    for m in range(13):
        received = now[m] - (now[m - 1] if m else ZERO)
        out.append(OutlookMonth(m, received if m <= last else ZERO, now[m] if m <= last else None,
                                tuple(None if b is None else b[m] for b in before), cents(expected[m])))
    return tuple(out)


def _scenarios(books, year: int, as_of: datetime.date, remaining: Decimal, to_come: dict[str, Decimal]):
    entries = books.entries
    income, spent, _ = year_result([e for e in entries if e.date <= as_of], year)
    net = position(entries, as_of).net
    target = buf.target(entries, year, as_of)
    balance = buf.balance(entries, as_of)
    moved = sum((m.amount for m in buf.movements(entries, year) if m.date <= as_of), ZERO)
    out = []
    for name, extra in to_come.items():
        year_income, year_spending = cents(income + extra), cents(spent + remaining)
        surplus = year_income - year_spending
        out.append(OutlookScenario(
            name=name, label=SCENARIOS[name], income_to_come=cents(extra), year_income=year_income,
            year_expenditure=year_spending, surplus=surplus, fund_balance_year_end=cents(net + extra - remaining),
            buffer_year_end=year_end_buffer(cents(balance - moved), target, surplus),
        ))
    return tuple(out), cents(net)


def outlook_report(books, year: int, as_of: datetime.date | None = None, *, commit: str | None = None) -> OutlookReport:
    """The funding outlook of work-plan ``year`` as of ``as_of``."""
    head = header(books, "outlook", year, as_of, commit)
    as_of = head.as_of
    history = receipts(books.entries, as_of)
    got: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for _day, state, amount in history.get(year, ()):
        got[state] += amount
    states, unvalued = _states(books, year, as_of, got, history)
    budget = budget_report(books, year, as_of, commit=commit).total_final
    received = cents(sum(got.values(), ZERO))
    outstanding = cents(sum((s.outstanding or ZERO for s in states), ZERO))
    secured = received + outstanding
    previous = tuple(y for y in range(year - 1, year - HISTORY - 1, -1) if history.get(y))
    same_date = tuple(cents(sum((a for d, _s, a in history[y] if d <= same_day(as_of, as_of.year - (year - y))), ZERO))
                      for y in previous)
    remaining = cents(budget * remaining_share(year, as_of))
    to_come = {
        "all_pledges_paid": outstanding,
        "received_only": ZERO,
        "as_in_previous_years": cents(sum((s.usual_rest for s in states), ZERO)),
    }
    scenarios, net = _scenarios(books, year, as_of, remaining, to_come)
    return OutlookReport(
        header=head, budget=budget, received=received, outstanding_pledges=outstanding, secured=secured,
        secured_share=ratio(secured, budget, "0.0001"), previous_years=previous, previous_same_date=same_date,
        months=_months(year, as_of, history, states), states=tuple(states),
        overdue=cents(sum((s.outstanding or ZERO for s in states if s.overdue), ZERO)), unvalued_pledges=unvalued,
        fund_balance_now=net, remaining_expenditure=remaining, scenarios=scenarios,
    )
