"""The BQL queries that reproduce every report total from the ledger.

An auditor can paste any of these into ``bean-query main.beancount`` (or
Fava's query page) and get the figure the report prints; the tests assert
that they agree. They are written from docs/booking.md, independently of the
report code, which is the point: two readings of the books that must match.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from beanquery import query

from ledger import conventions

# Year-end closing transactions move income and expenditure into the fund
# balance; sums of the year's activity leave them out.
_ACTIVITY = f"NOT ('{conventions.TAG_CLOSING}' IN tags)"
_CONTRIB = (
    f"((account ~ '^{conventions.CONTRIBUTIONS}:' AND account != '{conventions.UNIDENTIFIED}') OR account = '{conventions.ADVANCE}')"
)

# Contributions received per State for a work-plan year (income and advance,
# so recognitions net out and reversals cancel).
RECEIVED_BY_STATE = (
    "SELECT meta('state_party') AS state_party, neg(sum(number)) AS received "
    f"WHERE {_CONTRIB} AND meta('wp_year') = {{year}} AND date <= {{as_of}} "
    "GROUP BY state_party ORDER BY state_party"
)
UNIDENTIFIED = (
    f"SELECT neg(sum(number)) WHERE account = '{conventions.UNIDENTIFIED}' AND year = {{year}} AND date <= {{as_of}} "
    f"AND {_ACTIVITY}"
)
ACTUAL_BY_LINE = (
    "SELECT account, sum(number) AS actual "
    f"WHERE account ~ '^{conventions.EXPENSES}:' AND year = {{year}} AND date <= {{as_of}} AND {_ACTIVITY} "
    "GROUP BY account ORDER BY account"
)
INCOME = "SELECT neg(sum(number)) WHERE account ~ '^Income:' AND year = {year} AND date <= {as_of} AND " + _ACTIVITY
EXPENDITURE = "SELECT sum(number) WHERE account ~ '^Expenses:' AND year = {year} AND date <= {as_of} AND " + _ACTIVITY
NET_ASSETS = "SELECT sum(number) WHERE account ~ '^(Assets|Liabilities):' AND date <= {as_of}"
BUFFER_BALANCE = f"SELECT neg(sum(number)) WHERE account = '{conventions.BUFFER}' AND date <= {{as_of}}"
STATE_RECEIPTS = (
    "SELECT meta('wp_year') AS wp_year, neg(sum(number)) AS received "
    f"WHERE {_CONTRIB} AND meta('state_party') = '{{state}}' AND date <= {{as_of}} "
    "AND not (any_meta('isu_kind') = 'recognition') GROUP BY wp_year ORDER BY wp_year"
)


def run(books, bql: str, **params) -> list[tuple]:
    """Run ``bql`` (with ``{year}``, ``{as_of}``, ``{state}`` filled in) on the books."""
    values = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in params.items()}
    _, rows = query.run_query(books.entries, books.options_map, bql.format(**values))
    return rows


def scalar(books, bql: str, **params) -> Decimal:
    rows = run(books, bql, **params)
    value = rows[0][0] if rows else None
    return Decimal("0.00") if value is None else value


def received_by_state(books, year: int, as_of: datetime.date) -> dict[str, Decimal]:
    return {state: total for state, total in run(books, RECEIVED_BY_STATE, year=year, as_of=as_of) if total}


def actual_by_line(books, year: int, as_of: datetime.date) -> dict[str, Decimal]:
    return dict(run(books, ACTUAL_BY_LINE, year=year, as_of=as_of))
