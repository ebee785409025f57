"""Budgets: original and revisions citing their decision, and Fava sees them."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from ledger.finance import budgets
from ledger.loader import load_books


MSP = "approved by the 22nd Meeting of the States Parties"
CC = "revised by the Coordinating Committee, 2026-06-15"


@pytest.fixture
def budgeted(cli, ledger_dir):
    for line, amount in (("Staff", "520000"), ("Travel", "60000")):
        code, _, err = cli(ledger_dir, "budget", "set", "--year", "2026", "--line", line, "--amount", amount,
                           "--decision", MSP, "--date", "2025-11-28")
        assert code == 0, err
    code, _, err = cli(ledger_dir, "budget", "set", "--year", "2026", "--line", "Staff", "--amount", "540000",
                       "--decision", CC, "--date", "2026-06-15")
    assert code == 0, err
    # A multi-year work plan: the next year approved at the same meeting.
    assert cli(ledger_dir, "budget", "set", "--year", "2027", "--line", "Staff", "--amount", "550000",
               "--decision", MSP, "--date", "2025-11-28")[0] == 0
    return ledger_dir


def test_original_final_and_decisions(budgeted):
    entries = load_books(budgeted).entries
    lines = {line.line: line for line in budgets.budget_lines(entries, 2026)}
    staff = lines["Staff"]
    assert (staff.original, staff.final, staff.revised) == (Decimal("520000.00"), Decimal("540000.00"), True)
    assert [(d.decided, d.decision) for d in staff.decisions] == [
        (datetime.date(2025, 11, 28), MSP), (datetime.date(2026, 6, 15), CC)]
    assert lines["Travel"].final == Decimal("60000.00") and not lines["Travel"].revised
    assert budgets.total(budgets.budget_lines(entries, 2026)) == Decimal("600000.00")
    # As of a date before the revision the final budget is the original.
    early = {line.line: line for line in budgets.budget_lines(entries, 2026, datetime.date(2026, 3, 1))}
    assert early["Staff"].final == Decimal("520000.00")
    assert [line.final for line in budgets.budget_lines(entries, 2027)] == [Decimal("550000.00")]


def test_budget_list_json(cli, budgeted):
    code, out, _ = cli(budgeted, "budget", "list", "--year", "2026", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc[0] == {
        "line": "Staff", "account": "Expenses:Budget:Staff", "wp_year": 2026,
        "original": "520000.00", "final": "540000.00",
        "decisions": [
            {"decided": "2025-11-28", "amount": "520000.00", "decision": MSP},
            {"decided": "2026-06-15", "amount": "540000.00", "decision": CC},
        ],
    }


def test_entries_are_fava_budgets_dated_first_of_january(budgeted):
    text = (budgeted / "txns" / "2026.beancount").read_text()
    assert '2026-01-01 custom "budget" Expenses:Budget:Staff "yearly" 540000.00 CHF' in text
    from fava.core import FavaLedger

    fava = FavaLedger(str(budgeted / "main.beancount"))
    assert not fava.budgets.errors
    year = fava.budgets.calculate("Expenses:Budget:Staff", datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
    # Fava shows the final budget for the year (not a pro-rata blend of the revisions).
    assert year["CHF"].quantize(Decimal("0.01")) == Decimal("540000.00")
    children = fava.budgets.calculate_children("Expenses:Budget", datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
    assert children["CHF"].quantize(Decimal("0.01")) == Decimal("600000.00")


def test_refusals(cli, budgeted):
    code, _, err = cli(budgeted, "budget", "set", "--year", "2026", "--line", "Catering", "--amount", "1", "--decision", MSP)
    assert code == 2 and "Catering: not a budget line" in err
    code, _, err = cli(budgeted, "budget", "set", "--year", "2026", "--line", "Staff", "--amount", "1",
                       "--decision", "older", "--date", "2026-01-10")
    assert code == 2 and "a later decision (2026-06-15) is already recorded" in err
    code, _, err = cli(budgeted, "budget", "set", "--year", "2026", "--line", "Staff", "--amount", "1", "--decision", "  ")
    assert code == 2 and "Staff 2026: name the decision that approved the new figure" in err
    code, out, _ = cli(budgeted, "budget", "set", "--year", "2026", "--line", "Staff", "--amount", "540000", "--decision", "again")
    assert code == 0 and "unchanged" in out


def test_variance_explanations(cli, budgeted, ledger_dir):
    code, out, err = cli(ledger_dir, "budget", "explain", "--year", "2026", "--line", "travel", "--text",
                         "Fewer missions\nthan planned")
    assert code == 0, err
    assert cli(ledger_dir, "budget", "explain", "--year", "2026", "--line", "Travel", "--text", "Missions held online")[0] == 0
    entries = load_books(ledger_dir).entries
    assert budgets.variance_explanations(entries, 2026) == {"Expenses:Budget:Travel": "Missions held online"}
    assert budgets.variance_explanations(entries, 2027) == {}
    for line, text, problem in (("Nowhere", "x", "Nowhere"), ("Travel", 'say "hi"', "quotes"), ("Travel", " ", "required")):
        code, _, err = cli(ledger_dir, "budget", "explain", "--year", "2026", "--line", line, "--text", text)
        assert code == 2 and problem in err and len(err.strip().splitlines()) == 1


def test_template_round_trip_with_signed_off_years_and_explanations(cli, demo_ledger, tmp_path):
    import shutil

    import openpyxl

    books = tmp_path / "books"
    shutil.copytree(demo_ledger, books, symlinks=True)
    sheet = tmp_path / "budget.xlsx"
    code, _, err = cli(books, "budget", "template", "-o", str(sheet))
    assert code == 0, err
    # Downloaded and uploaded unchanged: every year comes back as it was, signed-off years included.
    code, out, err = cli(books, "budget", "import", str(sheet), "--decision", "no change")
    assert code == 0, err
    assert "0 budget line(s) recorded" in out
    # An explanation typed into the template for the open year is recorded; a change to a signed-off year is refused.
    wb = openpyxl.load_workbook(sheet)
    ws = wb["Budget"]
    header = [c.value for c in next(row for row in ws.iter_rows() if any(c.value == "Variance explanation" for c in row))]
    col = header.index("Variance explanation")
    rows = [row for row in ws.iter_rows() if row[0].value == 2026 and row[1].value == "Travel"]
    rows[0][col].value = "Missions held online"
    wb.save(sheet)
    code, out, err = cli(books, "budget", "import", str(sheet), "--decision", "explanations")
    assert code == 0, err
    assert budgets.variance_explanations(load_books(books).entries, 2026)["Expenses:Budget:Travel"] == "Missions held online"
    locked = [row for row in ws.iter_rows() if row[0].value == 2024 and row[1].value == "Travel"]
    locked[0][2].value = 1
    wb.save(sheet)
    code, _, err = cli(books, "budget", "import", str(sheet), "--decision", "x")
    assert code == 2 and "2024 is signed off" in err
