"""The GICHD expenditure report: booked per budget line, cleared against transfers."""

from __future__ import annotations

import datetime

from decimal import Decimal

import pytest
from common.cli import import_ok
from common.statements import GICHD_IBAN, write_camt053
from common.workbooks import fill
from beancount.core import data

from ledger import conventions
from ledger.finance import expenditure
from ledger.loader import load_books


OPENING = Decimal("500000.00")
HEADER = ["Date", "Budget line", "Description", "Amount", "Reference"]

D = datetime.date


def transfer(day, amount, ref):
    return {"name": "GICHD", "iban": GICHD_IBAN, "date": day, "amount": -Decimal(amount), "ref": ref, "text": "ISU costs"}


@pytest.fixture
def books(cli, tmp_path):
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", str(OPENING), "--as-of", "2025-12-31")[0] == 0
    import_ok(ledger, write_camt053(tmp_path / "bank.xml", [
        transfer(D(2026, 1, 5), "60000.00", "G1"), transfer(D(2026, 2, 5), "60000.00", "G2")], opening=(D(2025, 12, 31), OPENING), ident="S-2026"))
    return ledger


REPORT = [
    ["2026-01-31", "Staff", "Staff costs January 2026", 52000, "EXP-2026-0001"],
    ["2026-01-31", "Travel", "Mission to Geneva", 3500.25, "EXP-2026-0002"],
    ["2026-02-28", "Staff", "Staff costs February 2026", 52000, "EXP-2026-0003"],
    ["2026-02-28", "Travel", "Refund of a cancelled ticket", -250.25, "EXP-2026-0004"],
]


def test_import_books_lines_and_prints_the_clearing(cli, head, books, tmp_path):
    report = fill(tmp_path / "gichd-2026-q1.xlsx", "Expenditure", HEADER, REPORT)
    code, out, err = cli(books, "expenditure", "import", str(report))
    assert code == 0, err
    assert "4 cost(s) booked, 0 already booked" in out
    assert "2026-01       60,000.00      55,500.25       4,499.75       4,499.75" in out
    assert "2026-02       60,000.00      51,749.75       8,250.25      12,750.00" in out
    assert "total        120,000.00     107,250.00      12,750.00      12,750.00" in out
    entries = load_books(books).entries
    by_line = expenditure.expenditure_by_line(entries, 2026)
    assert by_line == {"Expenses:Budget:Staff": Decimal("104000.00"), "Expenses:Budget:Travel": Decimal("3250.00")}
    (txn,) = [e for e in entries if isinstance(e, data.Transaction) and e.meta.get("gichd_ref") == "EXP-2026-0002"]
    assert txn.meta["isu_kind"] == "expenditure" and txn.meta["source"] == "documents/expenditure/gichd-2026-q1.xlsx"
    assert [(p.account, p.units.number) for p in txn.postings] == [
        ("Expenses:Budget:Travel", Decimal("3500.25")), (conventions.GICHD_CLEARING, Decimal("-3500.25"))]
    assert (books / "documents" / "expenditure" / "gichd-2026-q1.xlsx").read_bytes() == report.read_bytes()
    # The transfers themselves are not expenditure.
    from ledger.finance.yearend import year_result

    assert year_result(entries, 2026)[1] == Decimal("107250.00")
    # Re-importing the same report books nothing.
    before = head(books)
    code, out, _ = cli(books, "expenditure", "import", str(report))
    assert code == 0 and "0 cost(s) booked, 4 already booked" in out and head(books) == before


def test_clearing_periods(cli, books, tmp_path):
    report = fill(tmp_path / "r.xlsx", "Expenditure", HEADER, REPORT[:1])
    assert cli(books, "expenditure", "import", str(report))[0] == 0
    periods = expenditure.clearing(load_books(books).entries, 2026)
    assert [(p.period, p.transferred, p.reported, p.difference, p.balance) for p in periods] == [
        ("2026-01", Decimal("60000.00"), Decimal("52000.00"), Decimal("8000.00"), Decimal("8000.00")),
        ("2026-02", Decimal("60000.00"), Decimal("0.00"), Decimal("60000.00"), Decimal("68000.00")),
    ]
    assert expenditure.clearing(load_books(books).entries, 2027) == []


def test_dry_run_and_bad_rows_write_nothing(cli, head, books, tmp_path):
    before = head(books)
    report = fill(tmp_path / "r.xlsx", "Expenditure", HEADER, REPORT)
    code, out, _ = cli(books, "expenditure", "import", str(report), "--dry-run")
    assert code == 0 and "4 cost(s) booked" in out and "dry run" in out and "2026-01" in out
    assert head(books) == before and not (books / "documents" / "expenditure").exists()
    bad = fill(tmp_path / "bad.xlsx", "Expenditure", HEADER, REPORT[:2] + [
        ["2026-03-31", "Catering", "Lunch", 10, "EXP-X"],
        ["2026-03-31", "Staff", "Staff", 0, "EXP-Y"],
        ["31.03.2026", "Staff", "Staff", 5, "EXP-0001"],
        ["2026-03-31", "Staff", "Again", 5, "EXP-2026-0001"],
    ])
    code, _, err = cli(books, "expenditure", "import", str(bad))
    assert code == 2 and head(books) == before
    assert f"{bad}:Expenditure!4: column B (Budget line): Catering: not a budget line" in err
    assert f"{bad}:Expenditure!5: column D (Amount): 0: must not be zero" in err
    assert f"{bad}:Expenditure!6: column A (Date): 31.03.2026: not a date (YYYY-MM-DD)" in err
    assert f"{bad}:Expenditure!7: column E (Reference): EXP-2026-0001 is also on row 2" in err
    assert "refused: nothing written" in err


def test_a_booked_reference_with_other_values_is_refused(cli, books, tmp_path):
    assert cli(books, "expenditure", "import", str(fill(tmp_path / "a.xlsx", "Expenditure", HEADER, REPORT[:1])))[0] == 0
    changed = [["2026-01-31", "Staff", "Staff costs January 2026", 52500, "EXP-2026-0001"]]
    code, _, err = cli(books, "expenditure", "import", str(fill(tmp_path / "b.xlsx", "Expenditure", HEADER, changed)))
    assert code == 2 and "EXP-2026-0001 is already booked on 2026-01-31 with other values" in err
