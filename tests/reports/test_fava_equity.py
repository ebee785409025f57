"""Policy 11: the books say what the statements say. For every closed year of
the demo books, Fava's balance sheet at 31 December - here the same query
through beanquery, with Fava's treatment of income (CLEAR) - shows in its
equity accounts the fund balance of Statement I: the buffer, the
unrestricted fund balance and their total; no income or expense is left
unclosed. And the closing transactions are bookkeeping only: every report of
a closed year is the same without them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from beanquery import query

from ledger import conventions
from ledger.loader import load_books
from ledger.plugins.year_lock import locked_years
from reports.annual import annual_report
from reports.render_json import to_json

BALANCE_SHEET = ("SELECT account, sum(number) AS total FROM OPEN ON {year}-01-01 CLOSE ON {next}-01-01 CLEAR "
                 "WHERE account ~ '^(Assets|Liabilities|Equity|Income|Expenses)' GROUP BY account ORDER BY account")


@pytest.fixture(scope="module")
def books(demo_ledger):
    return load_books(demo_ledger)


def closed_years(books) -> list[int]:
    years = sorted(locked_years(books.entries))
    assert len(years) >= 5, years  # the demo signs off 2020-2025
    return years


def test_fava_balance_sheet_is_statement_one_for_every_closed_year(books):
    for year in closed_years(books):
        _, rows = query.run_query(books.entries, books.options_map, BALANCE_SHEET.format(year=year, next=year + 1))
        balances = {account: total for account, total in rows if total}
        statement = annual_report(books, year).statements
        buffer, unrestricted, total = statement.position.fund_balance
        equity = {a: -v for a, v in balances.items() if a.startswith("Equity:")}
        assert equity.get(conventions.BUFFER, Decimal(0)) == buffer.amount, year
        assert equity.get(conventions.FUND_BALANCE, Decimal(0)) == unrestricted.amount, year
        assert sum(equity.values()) == total.amount == statement.position.net_assets.amount, year
        assert set(equity) <= {conventions.BUFFER, conventions.FUND_BALANCE}, (year, equity)
        assert not [a for a in balances if a.startswith(("Income:", "Expenses:"))], (year, balances)


def test_reports_are_the_same_without_the_closing_entries(books):
    without = dataclasses.replace(books, entries=[e for e in books.entries if not conventions.is_closing(e)], memo={})
    assert len(without.entries) < len(books.entries)
    for year in closed_years(books):
        one, two = to_json(annual_report(books, year)), to_json(annual_report(without, year))
        assert _unsigned(one) == _unsigned(two), year


def _unsigned(doc):
    """A report without what depends on the sign-off's fingerprint (which covers the closing entries)."""
    if isinstance(doc, dict):
        return {k: _unsigned(v) for k, v in doc.items() if k not in ("audit", "auditor_report")}
    if isinstance(doc, list):
        return [_unsigned(v) for v in doc]
    return doc


def test_fava_filter_shows_the_income_statement_without_the_closings(books):
    from fava.core.filters import AdvancedFilter

    kept = AdvancedFilter("-#" + conventions.TAG_CLOSING).apply(books.entries)
    assert [e for e in books.entries if e not in kept] == [e for e in books.entries if conventions.is_closing(e)]
