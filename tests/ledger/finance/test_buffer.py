"""The financial security buffer: policy as ledger data, target, moves citing decisions."""

from __future__ import annotations

import datetime

from decimal import Decimal
from pathlib import Path

import pytest
from common.cli import cli
from common.workbooks import fill

from ledger.finance import buffer
from ledger.loader import load_books


D = datetime.date


def ok(ledger: Path, *args: str) -> str:
    code, out, err = cli(ledger, *args)
    assert code == 0, err
    return out


@pytest.fixture
def books(ledger_dir, tmp_path):
    ok(ledger_dir, "budget", "set", "--year", "2026", "--line", "Staff", "--amount", "800000", "--decision", "MSP", "--date", "2025-11-28")
    ok(ledger_dir, "budget", "set", "--year", "2026", "--line", "Travel", "--amount", "200000", "--decision", "MSP", "--date", "2025-11-28")
    report = fill(tmp_path / "r.xlsx", "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"], [
        ["2026-01-31", "Staff", "January", 60000, "E1"], ["2026-02-28", "Staff", "February", 60000, "E2"],
        ["2026-03-31", "Travel", "March", 30000, "E3"]])
    ok(ledger_dir, "expenditure", "import", str(report))
    return ledger_dir


def test_policy_kinds_and_targets(books):
    ok(books, "buffer", "policy", "--kind", "amount", "--value", "250000", "--decision", "14th MSP (2015)", "--date", "2016-01-01")
    ok(books, "buffer", "policy", "--kind", "share", "--value", "25%", "--decision", "21st MSP", "--date", "2026-01-01")
    ok(books, "buffer", "policy", "--kind", "months", "--value", "3", "--decision", "CC decision", "--date", "2026-06-01")
    entries = load_books(books).entries
    assert buffer.policy(entries, D(2025, 6, 1)) == buffer.BufferPolicy("amount", Decimal("250000.00"), "14th MSP (2015)", D(2016, 1, 1))
    assert buffer.target(entries, 2025) == Decimal("250000.00")
    # Share of the year's final budget (1,000,000) under the policy in force on the date.
    assert buffer.policy(entries, D(2026, 3, 1)).value == Decimal("0.25")
    assert buffer.target(entries, 2026, D(2026, 3, 1)) == Decimal("250000.00")
    # Months of expenditure: the year's final budget (1,000,000) / 12 a month -> 250,000 for 3
    # months, whatever was spent in the last 12 months (the same basis at the close).
    assert buffer.target(entries, 2026, D(2026, 7, 1)) == Decimal("250000.00")
    assert buffer.target(entries, 2026) == Decimal("250000.00")
    assert buffer.policy(entries, D(2015, 1, 1)) is None and buffer.target(entries, 2015) is None
    text = (books / "txns" / "2026.beancount").read_text()
    assert '2026-01-01 custom "isu-buffer-policy" "share" 0.25' in text


def test_allocate_draw_and_movements(head, books):
    assert "buffer 100,000.00 CHF" in ok(books, "buffer", "allocate", "--amount", "100000", "--decision", "CC 2026-01", "--date", "2026-01-20")
    assert "buffer 70,000.00 CHF" in ok(books, "buffer", "draw", "--amount", "30000", "--decision", "CC 2026-05", "--date", "2026-05-02")
    entries = load_books(books).entries
    assert buffer.balance(entries, D(2026, 1, 19)) == 0 and buffer.balance(entries, D(2026, 12, 31)) == Decimal("70000.00")
    moves = buffer.movements(entries, 2026)
    assert [(m.date, m.amount, m.kind, m.decision) for m in moves] == [
        (D(2026, 1, 20), Decimal("100000.00"), "allocation", "CC 2026-01"),
        (D(2026, 5, 2), Decimal("-30000.00"), "drawdown", "CC 2026-05")]
    # 70,000 held against 83,333.33 a month of expenditure (final budget / 12).
    assert buffer.months_covered(entries, 2026, D(2026, 6, 30)) == Decimal("0.8")
    before = head(books)
    # Never below zero, also not by a drawdown dated before a later one.
    code, _, err = cli(books, "buffer", "draw", "--amount", "80000", "--decision", "x", "--date", "2026-06-01")
    assert code == 2 and "the buffer holds 70,000.00 CHF on 2026-06-01" in err
    code, _, err = cli(books, "buffer", "draw", "--amount", "80000", "--decision", "x", "--date", "2026-03-01")
    assert code == 2 and "holds 70,000.00 CHF" in err
    assert head(books) == before


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["policy", "--kind", "share", "--value", "1.5", "--decision", "d"], "at most 1"),
        (["policy", "--kind", "months", "--value", "-2", "--decision", "d"], "must be a positive number"),
        (["policy", "--kind", "months", "--value", "50%", "--decision", "d"], "only for --kind share"),
        (["policy", "--kind", "amount", "--value", "1.234", "--decision", "d"], "more than two decimals"),
        (["policy", "--kind", "months", "--value", "3", "--decision", " "], "--decision"),
        (["allocate", "--amount", "abc", "--decision", "d", "--date", "2026-01-01"], "abc: not an amount"),
        (["allocate", "--amount", "10", "--decision", "d", "--date", "1.1.2026"], "not a date"),
    ],
)
def test_refusals(head, books, args, problem):
    before = head(books)
    code, _, err = cli(books, "buffer", *args)
    assert code == 2 and problem in err and err.count("\n") == 1
    assert head(books) == before
