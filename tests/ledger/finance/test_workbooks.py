"""The Excel templates: written by the CLI, filled in, read back; bad rows refused.

A template written with the recorded data re-imports as "unchanged" (the
round trip), every problem is reported as FILE:SHEET!ROW: column X: problem,
and a workbook with any bad row writes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from common.workbooks import DAMAGE, damaged, fill

from ledger.finance import workbooks



def add_rows(path: Path, sheet: str, rows: list[list]) -> Path:
    """Fill rows into a template written by the CLI (keeps its other sheets)."""
    wb = openpyxl.load_workbook(path)
    for row in rows:
        wb[sheet].append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize(
    ("command", "sheet", "headers"),
    [
        ("pledge", "Pledges", ["State Party", "Year", "Amount", "Currency", "Expected"]),
        ("budget", "Budget", ["Year", "Budget line", "Amount"]),
        ("expenditure", "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"]),
    ],
)
def test_template_is_written_with_headers_and_instructions(cli, ledger_dir, tmp_path, command, sheet, headers):
    out = tmp_path / f"{command}.xlsx"
    code, text, err = cli(ledger_dir, command, "template", "-o", str(out))
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [sheet, "Instructions"]
    first = [c.value for c in wb[sheet][1]]
    assert first[: len(headers)] == headers
    notes = [str(c.value) for r in wb["Instructions"].iter_rows() for c in r if c.value is not None]
    assert any("Upload the filled-in file on the Uploads page" in n for n in notes)
    assert not any("isu-ledger" in n or "--" in n for n in notes)  # staff are not sent to a command line


def test_pledge_template_round_trip(cli, head, ledger_dir, tmp_path):
    template = tmp_path / "pledges.xlsx"
    assert cli(ledger_dir, "pledge", "template", "-o", str(template))[0] == 0
    add_rows(template, "Pledges", [
        ["DEU", 2026, 100000, "EUR", datetime.datetime(2026, 6, 30), "core", datetime.datetime(2026, 2, 15), None, 0.95, "NV 123/2026"],
        ["NOR", 2026, "250'000.50", None, None, None, "2026-03-01", "S-NOR-A"],
        ["NOR", 2027, 250000.5, "CHF", None, None, "2026-03-01", "S-NOR-A"],
    ])
    code, out, err = cli(ledger_dir, "pledge", "import", str(template))
    assert code == 0, err
    assert "3 new" in out
    # Written back from the books, the template re-imports as unchanged.
    again = tmp_path / "again.xlsx"
    code, out, _ = cli(ledger_dir, "pledge", "template", "-o", str(again))
    assert "3 row(s)" in out
    rows = [[c for c in r] for r in openpyxl.load_workbook(again)["Pledges"].iter_rows(min_row=2, values_only=True)]
    deu = [r for r in rows if r[0] == "DEU"][0]
    assert deu[:4] == ["DEU", 2026, 100000, "EUR"] and deu[8] == "0.95" and deu[10] == "P-2026-DEU-01"
    before = head(ledger_dir)
    code, out, err = cli(ledger_dir, "pledge", "import", str(again))
    assert code == 0, err
    assert "0 new, 0 updated, 3 unchanged" in out and head(ledger_dir) == before
    # Editing a row with its id updates that pledge.
    wb = openpyxl.load_workbook(again)
    for row in wb["Pledges"].iter_rows(min_row=2):
        if row[0].value == "DEU":
            row[2].value = 120000
    wb.save(again)
    code, out, err = cli(ledger_dir, "pledge", "import", str(again))
    assert code == 0 and "0 new, 1 updated, 2 unchanged" in out, err
    code, out, _ = cli(ledger_dir, "pledge", "list", "--json")
    import json

    listed = {p["pledge_id"]: p for p in json.loads(out)}
    assert listed["P-2026-DEU-01"]["amount"] == "120000.00"
    assert listed["P-2026-NOR-01"]["amount"] == "250000.50" and listed["P-2027-NOR-01"]["schedule"] == "S-NOR-A"


def test_bad_rows_are_reported_per_row_and_nothing_is_written(cli, head, ledger_dir, tmp_path):
    book = fill(tmp_path / "bad.xlsx", "Pledges", ["State Party", "Year", "Amount", "Currency"], [
        ["DEU", 2026, 1000, "CHF"],
        ["XYZ", 2026, 1000, "CHF"],
        ["FRA", "20x6", -5, "EURO"],
        [None, None, None, None],
        ["ITA", 2026, 10.005, None],
    ])
    before = head(ledger_dir)
    code, out, err = cli(ledger_dir, "pledge", "import", str(book))
    assert code == 2
    lines = err.strip().splitlines()
    assert f"isu-ledger: {book}:Pledges!3: column A (State Party): XYZ: not in the registry (registry/contributors.csv)" in lines
    assert f"isu-ledger: {book}:Pledges!4: column B (Year): 20x6: not a year (1999 to 2100)" in lines
    assert f"isu-ledger: {book}:Pledges!4: column C (Amount): -5: must not be negative" in lines
    assert any(line.startswith(f"isu-ledger: {book}:Pledges!4: column D (Currency): EURO") for line in lines)
    assert f"isu-ledger: {book}:Pledges!6: column C (Amount): 10.005: more than two decimals" in lines
    assert lines[-1] == "isu-ledger: refused: nothing written"
    assert head(ledger_dir) == before and "isu-pledge" not in (ledger_dir / "txns" / "2025.beancount").read_text()


def test_budget_template_round_trip_and_bad_line(cli, head, ledger_dir, tmp_path):
    template = tmp_path / "budget.xlsx"
    assert cli(ledger_dir, "budget", "template", "-o", str(template))[0] == 0
    add_rows(template, "Budget", [[2026, "Staff", 520000], [2026, "Travel", 60000], [2027, "Staff", 530000]])
    code, out, err = cli(ledger_dir, "budget", "import", str(template), "--decision", "approved by the 22nd MSP", "--date", "2025-11-28")
    assert code == 0 and "3 budget line(s) recorded" in out, err
    again = tmp_path / "again.xlsx"
    assert cli(ledger_dir, "budget", "template", "-o", str(again))[0] == 0
    before = head(ledger_dir)
    code, out, _ = cli(ledger_dir, "budget", "import", str(again), "--decision", "same", "--date", "2025-12-01")
    assert code == 0 and "0 budget line(s) recorded, 3 unchanged" in out and head(ledger_dir) == before
    bad = fill(tmp_path / "bad.xlsx", "Budget", ["Year", "Budget line", "Amount"], [[2026, "Catering", 1], [2026, "Staff", "lots"]])
    code, _, err = cli(ledger_dir, "budget", "import", str(bad), "--decision", "x")
    assert code == 2 and head(ledger_dir) == before
    assert f"{bad}:Budget!2: column B (Budget line): Catering: not a budget line" in err
    assert f"{bad}:Budget!3: column C (Amount): lots: not an amount" in err


def test_not_a_workbook_and_missing_column(cli, ledger_dir, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a zip")
    code, _, err = cli(ledger_dir, "expenditure", "import", str(junk))
    assert code == 2 and f"{junk}: not an Excel workbook" in err
    partial = fill(tmp_path / "partial.xlsx", "Expenditure", ["Date", "Budget line", "Amount"], [["2026-01-01", "Staff", 1]])
    code, _, err = cli(ledger_dir, "expenditure", "import", str(partial))
    assert code == 2 and "column 'Description' is missing" in err and "column 'Reference' is missing" in err


def test_field_parsers_keep_money_exact():
    assert workbooks.parse_money(0.1) == Decimal("0.10")
    assert workbooks.parse_money(1234567.89) == Decimal("1234567.89")
    assert workbooks.parse_money("1'234.5") == Decimal("1234.50")
    assert workbooks.parse_money(-3, allow_negative=True) == Decimal("-3.00")
    for bad in ("1e400x", True, None, "NaN", "Infinity"):
        with pytest.raises(ValueError):
            workbooks.parse_money(bad)
    assert workbooks.parse_year(2026.0) == 2026
    assert workbooks.parse_date(datetime.datetime(2026, 1, 2, 0, 0)) == datetime.date(2026, 1, 2)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize("kind", ["bomb", "too-many-members"])
def test_hostile_workbook_archives_are_refused_before_inflating(cli, head, ledger_dir, tmp_path, kind):
    """An .xlsx is a zip: an archive bomb or a swarm of members is refused
    from the zip directory, with one line, exit 2 and nothing written."""
    if kind == "bomb":
        path = _zip(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b"0" * (80 * 1024 * 1024)})
        expected = "refused: inflates to"
    else:
        path = _zip(tmp_path / "swarm.xlsx", {f"xl/m{i}.xml": b"<a/>" for i in range(workbooks.MAX_MEMBERS + 1)})
        expected = f"refused: {workbooks.MAX_MEMBERS + 1} archive members"
    before = head(ledger_dir)
    for command in ("pledge", "budget", "expenditure"):
        extra = ["--decision", "x"] if command == "budget" else []
        code, _, err = cli(ledger_dir, command, "import", str(path), *extra)
        assert code == 2 and f"{path}: {expected}" in err, err
    assert head(ledger_dir) == before


def test_a_single_member_bomb_under_the_total_cap_is_refused(tmp_path):
    path = _zip(tmp_path / "ratio.xlsx", {"xl/sharedStrings.xml": b"A" * (20 * 1024 * 1024)})
    with pytest.raises(workbooks.ExcelErrors, match="is an archive bomb"):
        workbooks._check_archive(path)


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_sheet_xml_or_a_dtd_is_one_line_and_writes_nothing(cli, head, ledger_dir, tmp_path, how):
    """The zip is sound but a sheet's XML is cut short or declares a DTD
    (entities: XXE, entity expansion): a refusal naming the file, never a
    traceback; a workbook has no use for a DTD, so any is refused."""
    before = head(ledger_dir)
    for command, sheet, header, extra in (
        ("pledge", "Pledges", ["State Party", "Year", "Amount", "Currency"], []),
        ("budget", "Budget", ["Year", "Budget line", "Amount"], ["--decision", "x"]),
        ("expenditure", "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"], []),
    ):
        good = fill(tmp_path / f"{command}.xlsx", sheet, header, [[None] * len(header)])
        path = damaged(good, tmp_path / f"{command}-{how}.xlsx", how)
        code, out, err = cli(ledger_dir, command, "import", str(path), *extra)
        first = err.splitlines()[0]
        assert code == 2 and first.startswith(f"isu-ledger: {path}: ") and "Traceback" not in err, err
        assert ("declares a DTD" in first) if how != "truncated" else ("XML does not parse" in first), err
    assert head(ledger_dir) == before
