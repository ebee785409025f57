"""The funding outlook (``report outlook``) on the demo books, cross-checked
with BQL and with the other reports, and rendered in the four formats."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from ledger.loader import load_books
from reports import bql
from reports.buffer import remaining_share
from reports.budget import budget_report
from reports.contributions import contributions_report
from reports.financial import position
from reports.outlook import outlook_report, same_day
from reports.render_html import render_html
from reports.render_json import to_json
from reports.render_pdf import render_pdf
from reports.render_xlsx import render_xlsx

YEAR = 2026
ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def books(demo_ledger):
    return load_books(demo_ledger)


@pytest.fixture(scope="module")
def outlook(books):
    return outlook_report(books, YEAR)


def test_received_is_the_bql_sum(books, outlook):
    as_of = outlook.header.as_of
    assert outlook.received == sum(bql.received_by_state(books, YEAR, as_of).values())
    assert outlook.received == contributions_report(books, YEAR, as_of).total_received
    by_state = {s.state_party: s.received for s in outlook.states if s.received}
    assert by_state == {k: v for k, v in bql.received_by_state(books, YEAR, as_of).items()}


def test_secured_share_of_the_budget(books, outlook):
    assert outlook.budget == budget_report(books, YEAR, outlook.header.as_of).total_final
    assert outlook.secured == outlook.received + outlook.outstanding_pledges
    assert outlook.secured_share == (outlook.secured / outlook.budget).quantize(Decimal("0.0001"))
    assert outlook.outstanding_pledges == sum(s.outstanding or ZERO for s in outlook.states)


def test_months_add_up(books, outlook):
    months = outlook.months
    known = [m for m in months if m.cumulative is not None]
    assert known[-1].cumulative == outlook.received
    assert sum(m.received for m in months) == outlook.received
    for i, year in enumerate(outlook.previous_years):
        december = months[-1].previous[i]
        assert december == sum(v for k, v in bql.received_by_state(books, year, datetime.date(year, 12, 31)).items())
    # unpaid pledges not yet overdue are expected in some month; the overdue ones are apart
    assert sum(m.expected_pledges for m in months) + outlook.overdue == outlook.outstanding_pledges


def test_same_date_in_earlier_years(books, outlook):
    for year, value in zip(outlook.previous_years, outlook.previous_same_date, strict=True):
        day = same_day(outlook.header.as_of, year)
        assert value == sum(bql.received_by_state(books, year, day).values())


def test_overdue_pledges_are_past_their_date(outlook):
    for s in outlook.states:
        if s.overdue:
            assert s.expected < outlook.header.as_of and s.outstanding > 0
    assert outlook.overdue == sum(s.outstanding for s in outlook.states if s.overdue)


def test_scenarios(books, outlook):
    as_of = outlook.header.as_of
    by_name = {s.name: s for s in outlook.scenarios}
    assert set(by_name) == {"all_pledges_paid", "received_only", "as_in_previous_years"}
    assert by_name["all_pledges_paid"].income_to_come == outlook.outstanding_pledges
    assert by_name["received_only"].income_to_come == ZERO
    assert by_name["as_in_previous_years"].income_to_come == sum(s.usual_rest for s in outlook.states)
    # the pattern, checked by BQL: what each earlier year received after the same day, averaged
    after = [sum(bql.received_by_state(books, y, datetime.date(y, 12, 31)).values())
             - sum(bql.received_by_state(books, y, same_day(as_of, y)).values()) for y in range(YEAR - 3, YEAR)]
    assert abs(by_name["as_in_previous_years"].income_to_come - sum(after) / 3) <= Decimal("0.05")
    remaining = (outlook.budget * remaining_share(YEAR, as_of)).quantize(Decimal("0.01"))
    assert outlook.remaining_expenditure == remaining
    net = position(books.entries, as_of).net
    for s in outlook.scenarios:
        assert s.fund_balance_year_end == net + s.income_to_come - remaining
        assert s.surplus == s.year_income - s.year_expenditure
    assert by_name["all_pledges_paid"].surplus - by_name["received_only"].surplus == outlook.outstanding_pledges


def test_all_formats(outlook):
    doc = to_json(outlook)
    assert doc["report"] == "outlook" and doc["received"] == f"{outlook.received:.2f}"
    json.dumps(doc)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(outlook)))
    assert {"Outlook", "By month", "Scenarios", "States"} <= set(wb.sheetnames)
    assert render_pdf(outlook).startswith(b"%PDF")
    html = render_html(outlook).decode()
    assert "Funding outlook" in html and "<svg" in html
