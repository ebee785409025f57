"""Report figures on the fixture books: checked by hand, by BQL, and by golden snapshot.

Each total the reports print is also computed by a BQL query (reports.bql) on
the same books; they must agree. The snapshots mask what changes from run to
run (ledger fingerprint, commit).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.finance import pledges
from ledger.loader import load_books
from ledger.finance.yearend import year_result
from reports import bql
from reports.annual import annual_report
from reports.budget import budget_report
from reports.buffer import buffer_report
from reports.contributions import contributions_report
from reports.render_json import to_json
from reports.statement import statement_report

D = Decimal
MASK = {"ledger_sha256", "ledger_commit", "fingerprint"}


def masked(value):
    if isinstance(value, dict):
        return {k: (f"<{k}>" if k in MASK and value[k] else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


@pytest.fixture(scope="module")
def books(report_books):
    return load_books(report_books)


def test_contributions_2025_by_hand(books):
    r = contributions_report(books, 2025)
    assert r.header.as_of == datetime.date(2025, 9, 30)  # latest date in the books for 2025
    assert r.header.status == "preliminary"
    rows = {row.state_party: row for row in r.rows}
    # NOR: 80,000 received in advance in 2024 + 120,000 in 2025; the recognition
    # on 1 January 2025 moves it to income and must not count it twice.
    assert rows["NOR"].received == D("200000.00") and rows["NOR"].receipts == 2
    # CHE paid 30,000 of 60,000 and 40,000 in advance for 2026.
    assert (rows["CHE"].outstanding, rows["CHE"].advance_next_year) == (D("30000.00"), D("40000.00"))
    # SEN's late payment for signed-off 2024 counts in 2025 (designated_year).
    assert rows["SEN"].received == D("25000.00")
    # EUR pledges: valued at the rate BEL's payment achieved; ITA has paid nothing, value unknown.
    assert (rows["BEL"].pledged, rows["BEL"].fx_pending) == (D("47050.00"), True)
    assert rows["ITA"].pledged is None and rows["ITA"].outstanding is None
    assert r.unidentified == D("2000.00")
    assert r.total_received == D("578525.00")


def test_contributions_2024_reversal_nets_out(auditor, books):
    r = contributions_report(books, 2024)
    rows = {row.state_party: row for row in r.rows}
    assert rows["ITA"].received == D("18820.00")  # received, reversed, re-sent
    assert rows["ITA"].receipts == 3
    assert rows["NOR"].advance_next_year == D("80000.00")
    assert r.header.status == "audited" and r.header.audit.auditor == auditor


@pytest.mark.parametrize("year", [2024, 2025])
def test_contributions_equal_bql_and_pledge_status(books, year):
    r = contributions_report(books, year)
    by_bql = bql.received_by_state(books, year, r.header.as_of)
    assert {row.state_party: row.received for row in r.rows if row.received} == by_bql
    assert r.total_received == sum(by_bql.values())
    assert r.unidentified == bql.scalar(books, bql.UNIDENTIFIED, year=year, as_of=r.header.as_of)
    status = {s.state_party: s.received for s in pledges.pledge_status(books.entries, year, r.header.as_of)}
    assert r.history_totals[year] == sum(status.values())
    for h in r.history:
        assert h.by_year[year] == status.get(h.state_party, D("0.00"))


@pytest.mark.parametrize("year", [2024, 2025])
def test_budget_equals_bql(books, year):
    r = budget_report(books, year)
    actual = bql.actual_by_line(books, year, r.header.as_of)
    assert {b.account: b.actual for b in r.lines if b.actual} == {k: v for k, v in actual.items() if k.startswith("Expenses:Budget:")}
    assert r.total_difference == r.total_final - r.total_actual


def test_budget_original_and_final(books):
    lines = {b.line: b for b in budget_report(books, 2024).lines}
    assert (lines["Travel"].original, lines["Travel"].final) == (D("60000.00"), D("50000.00"))
    early = {b.line: b for b in budget_report(books, 2025, datetime.date(2025, 3, 31)).lines}
    late = {b.line: b for b in budget_report(books, 2025).lines}
    assert (early["Meetings"].final, late["Meetings"].final) == (D("80000.00"), D("90000.00"))


@pytest.mark.parametrize("year", [2024, 2025])
def test_annual_fund_balance_ties_to_bql(books, year):
    r = annual_report(books, year)
    f, as_of = r.fund_balance, r.header.as_of
    assert f.opening + f.surplus + f.other_equity == f.closing
    assert f.closing == bql.scalar(books, bql.NET_ASSETS, as_of=as_of)
    assert f.opening == bql.scalar(books, bql.NET_ASSETS, as_of=datetime.date(year - 1, 12, 31))
    assert f.income == bql.scalar(books, bql.INCOME, year=year, as_of=as_of)
    assert f.expenditure == bql.scalar(books, bql.EXPENDITURE, year=year, as_of=as_of)
    assert f.buffer_closing == bql.scalar(books, bql.BUFFER_BALANCE, as_of=as_of)
    assert r.total_income == r.contributions_booked + r.unidentified + r.interest


def test_annual_2024_is_audited_and_matches_year_end(opinion_date, books):
    r = annual_report(books, 2024)
    assert r.header.status == "audited" and r.forecast is None
    assert r.header.audit.opinion_date == opinion_date and r.header.audit.fingerprint_ok
    income, expenditure, surplus = year_result(books.entries, 2024)
    assert (r.total_income, r.total_expenditure, r.fund_balance.surplus) == (income, expenditure, surplus)
    assert r.fund_balance.surplus == D("35420.50")


def test_annual_2025_preliminary_has_forecast(books):
    r = annual_report(books, 2025)
    assert r.forecast is not None
    paid, unpaid = r.forecast.scenarios
    assert paid.income - unpaid.income == r.contributions.total_outstanding
    assert paid.expenditure == r.total_expenditure + r.forecast.remaining_expenditure
    titles = [n.title for n in r.notes]
    assert "Contributions for prior years" in titles and "Foreign currency" in titles


def test_buffer(books):
    r = buffer_report(books, 2025)
    assert r.balance == D("30000.00") == bql.scalar(books, bql.BUFFER_BALANCE, as_of=r.header.as_of)
    assert r.policy.kind == "months" and r.policy.value == 3
    assert r.funded_ratio == (r.balance / r.target).quantize(D("0.01"))
    assert [s.name for s in r.scenarios] == ["all_pledges_paid", "no_pledges_paid"]
    assert buffer_report(books, 2024).scenarios == ()  # the year is over: nothing to forecast
    assert buffer_report(books, 2024).movements[0].amount == D("30000.00")


def test_statement(books):
    r = statement_report(books, 2025, "ita")
    years = {y.wp_year: y for y in r.years}
    assert [x.amount for x in years[2024].receipts] == [D("18820.00"), D("-18820.00"), D("18820.00")]
    assert years[2024].received == D("18820.00")
    assert years[2025].pledged is None  # EUR pledge, nothing paid yet
    by_bql = dict(bql.run(books, bql.STATE_RECEIPTS, state="ITA", as_of=r.header.as_of))
    assert {y.wp_year: y.received for y in r.years if y.received} == {int(k): v for k, v in by_bql.items()}


@pytest.mark.parametrize("name,build", [
    ("contributions-2025", lambda b: contributions_report(b, 2025)),
    ("contributions-2024", lambda b: contributions_report(b, 2024)),
    ("budget-2025", lambda b: budget_report(b, 2025)),
    ("buffer-2025", lambda b: buffer_report(b, 2025)),
    ("statement-2025-NOR", lambda b: statement_report(b, 2025, "NOR")),
    ("annual-2025", lambda b: annual_report(b, 2025)),
    ("annual-2024", lambda b: annual_report(b, 2024)),
])
def test_golden(assert_golden, books, name, build):
    assert_golden(f"reports/{name}", masked(to_json(build(books))))
