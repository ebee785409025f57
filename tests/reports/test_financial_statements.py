"""The financial statements of the Annual Financial Report, on the demo books
(2025 audited, 2026 preliminary): the statements agree with each other and
with the books, and the rendered PDF, HTML and XLSX read as published
statements (cover, contents, status and "Page x of y" on every page, no word
or number broken in a table, percentages, "—" for no pledge).

The rendered pages of both reports are written as PNG (pdftoppm) under
``build/report-pages/`` (or ``$ISU_ARTIFACTS/report-pages``) for people to look at.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from ledger.loader import load_books
from reports.annual import annual_report
from reports.budget import budget_report
from reports.buffer import buffer_report
from reports.contributions import contributions_report
from reports.document import report_sections, section_tables
from reports.render_html import render_html
from reports.render_pdf import cell_text, render_pdf
from reports.render_xlsx import render_xlsx
from reports.statement import statement_report

REPO = Path(__file__).resolve().parents[2]
pdftotext = shutil.which("pdftotext")
pdftoppm = shutil.which("pdftoppm")


@pytest.fixture(scope="module")
def demo_books(demo_ledger):
    return load_books(demo_ledger)


@pytest.fixture(scope="module")
def reports(demo_books):
    return {year: annual_report(demo_books, year) for year in (2024, 2025, 2026)}


def test_status_of_the_demo_years(reports):
    assert reports[2025].header.status == "audited"
    assert reports[2026].header.status == "preliminary"


# --- the statements agree with each other and with the books -------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_statement_one_is_the_fund_balance_and_the_bank(reports, year):
    r = reports[year]
    p, f = r.statements.position, r.fund_balance
    assert p.net_assets.amount == f.closing
    buffer, unrestricted, total = p.fund_balance
    assert (buffer.amount, unrestricted.amount, total.amount) == (f.buffer_closing, f.unrestricted_closing, f.closing)
    assets = sum(x.amount for x in p.assets)
    liabilities = sum(x.amount for x in p.liabilities)
    assert assets - liabilities == p.net_assets.amount
    assert p.bank_statement_balance == p.bank_balance  # reconciled to the UBS statement


@pytest.mark.parametrize("year", [2025, 2026])
def test_statement_two_is_the_result(reports, year):
    r = reports[year]
    perf = r.statements.performance
    assert perf.total_income.amount == r.fund_balance.income == sum(x.amount for x in perf.income)
    assert perf.total_expenditure.amount == r.fund_balance.expenditure
    assert perf.surplus.amount == r.fund_balance.surplus
    budget_lines = {b.line: b.actual for b in r.budget.lines}
    for line in perf.expenditure:
        if line.label in budget_lines:
            assert line.amount == budget_lines[line.label]


def test_comparatives_are_the_prior_years_own_figures(reports):
    this, prior = reports[2026].statements, reports[2025]
    assert this.prior_year == 2025
    assert this.performance.surplus.prior == prior.fund_balance.surplus
    assert this.performance.total_income.prior == prior.fund_balance.income
    assert this.position.net_assets.prior == prior.fund_balance.closing
    assert [x.prior for x in this.position.fund_balance] == [x.amount for x in prior.statements.position.fund_balance]


@pytest.mark.parametrize("year", [2025, 2026])
def test_statement_three_runs_from_opening_to_closing(reports, year):
    r = reports[year]
    c = r.statements.changes
    assert c.opening.total == r.fund_balance.opening
    assert c.opening.buffer == r.fund_balance.buffer_opening
    assert c.opening.unrestricted + sum(m.unrestricted for m in c.movements) == c.closing.unrestricted
    assert c.opening.buffer + sum(m.buffer for m in c.movements) == c.closing.buffer
    assert c.closing.total == r.statements.position.net_assets.amount
    assert all(m.decision for m in c.movements if m.buffer)  # every transfer cites its decision


@pytest.mark.parametrize("year", [2025, 2026])
def test_statement_four_is_the_budget_report(demo_books, reports, year):
    r = reports[year]
    b = r.statements.budget
    budget = budget_report(demo_books, year, r.header.as_of)
    assert (b.total.original, b.total.final, b.total.actual, b.total.difference) == (
        budget.total_original, budget.total_final, budget.total_actual, budget.total_difference)
    assert b.decisions, "the approving decisions are cited"
    for line in b.lines:
        assert line.material == (abs(line.difference) > 5000 and abs(line.difference) > abs(line.final) / 10)


def test_notes_are_numbered_and_cited(reports):
    s = reports[2025].statements
    numbers = [n.number for n in s.notes]
    assert numbers == list(range(1, len(numbers) + 1))
    titles = {n.number: n.title for n in s.notes}
    for line in (*s.position.assets, *s.position.liabilities, *s.position.fund_balance, *s.performance.income,
                 *s.performance.expenditure):
        if line.note is not None:
            assert line.note in titles
    assert "in kind" in titles[10].lower() and "GICHD" in titles[9]


def test_annex_counts_contributing_states(reports):
    s = reports[2025].statements
    annex = s.annexes[0]
    assert f"{s.contributing_states} of {s.states_parties} States Parties" in annex.note
    assert s.contributing_states == sum(1 for row in reports[2025].contributions.rows if row.received > 0)
    assert 150 < s.states_parties < 170


# --- presentation ------------------------------------------------------------------


def _all_reports(demo_books, reports):
    year = 2025
    state = reports[year].contributions.rows[0].state_party
    return [reports[2025], reports[2026], contributions_report(demo_books, year), budget_report(demo_books, year),
            buffer_report(demo_books, year), statement_report(demo_books, year, state)]


def test_titles_are_unique(demo_books, reports):
    for report in _all_reports(demo_books, reports):
        sections = report_sections(report)
        titles = [s.title for s in sections]
        assert len(titles) == len(set(titles)), titles
        tables = [t.title for t in section_tables(report)]
        assert len(tables) == len(set(tables)), tables


def _pdf_text(pdf: bytes, tmp_path: Path, layout: bool = False) -> list[str]:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    args = [pdftotext, *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    return text.split("\f")[:-1]


@pytest.mark.skipif(pdftotext is None, reason="poppler-utils (pdftotext) is not installed")
def test_no_table_cell_is_broken_mid_token(demo_books, reports, tmp_path):
    for report in _all_reports(demo_books, reports):
        text = " ".join(_pdf_text(render_pdf(report), tmp_path))
        flat = re.sub(r"\s+", " ", text)
        for table in section_tables(report):
            cells = [*table.columns, *(v for row in table.rows for v in row),
                     *((v for v in table.totals) if table.totals else ())]
            for value in cells:
                for token in cell_text(value).split():
                    assert token in flat, f"{report.header.report}: '{token}' of '{table.title}' is broken or missing"


@pytest.mark.skipif(pdftotext is None, reason="poppler-utils (pdftotext) is not installed")
@pytest.mark.parametrize("year, status", [(2025, "AUDITED"), (2026, "PRELIMINARY")])
def test_pdf_reads_as_published_statements(reports, tmp_path, year, status):
    pages = _pdf_text(render_pdf(reports[year]), tmp_path)
    cover = pages[0]
    assert "Anti-Personnel Mines" in cover and "Implementation Support Unit" in cover
    assert f"Annual Financial Report {year}" in cover
    assert "SHA-256" not in cover and not re.search(r"\b[0-9a-f]{64}\b", cover)
    assert "Contents" in pages[1] and "Statement I" in pages[1] and "Note 10" in pages[1]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert status in page
    body = "\n".join(pages)
    for heading in ("Statement by the Director", "Statement I — Financial position", "Statement II — Financial performance",
                    "Statement III — Changes in net assets", "Statement IV — Comparison of budget and actual amounts",
                    "Notes to the financial statements", "Annex 1", "Annex 3"):
        assert heading in body
    assert reports[year].header.ledger_sha256 in body.replace("\n", "")  # in Annex 3, not on the cover
    assert " %" in body  # ratios as percentages


@pytest.mark.skipif(pdftoppm is None, reason="poppler-utils (pdftoppm) is not installed")
def test_rendered_pages_are_written(reports):
    out = Path(os.environ.get("ISU_ARTIFACTS", REPO / "build")) / "report-pages"
    out.mkdir(parents=True, exist_ok=True)
    for year, name in ((2025, "annual-2025-audited"), (2026, "annual-2026-preliminary")):
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(render_pdf(reports[year]))
        for old in out.glob(f"{name}-*.png"):
            old.unlink()
        subprocess.run([pdftoppm, "-r", "80", "-png", str(pdf), str(out / name)], check=True, timeout=120)
        pngs = sorted(out.glob(f"{name}-*.png"))
        assert len(pngs) >= 8
        assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_no_pledge_is_a_dash_not_zero(reports):
    annex = reports[2025].statements.annexes[0]
    no_pledge = [row for row, c in zip(annex.rows, reports[2025].contributions.rows, strict=True) if not c.pledged_original]
    assert no_pledge, "the demo has States that paid without a pledge"
    assert all(row[2] is None and cell_text(row[2]) == "—" for row in no_pledge)


def test_xlsx_percentages_and_print_setup(reports):
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(reports[2025])))
    assert {"Report", "Text", "Statement I", "Statement II", "Statement III", "Statement IV", "Annex 1"} <= set(wb.sheetnames)
    ws = wb["Statement IV"]
    used = [row[5] for row in ws.iter_rows(min_row=3) if isinstance(row[5].value, (int, float))]
    assert used and all(c.number_format == "0.0%" for c in used)
    assert all(0 < c.value < 2 for c in used)
    for sheet in wb.worksheets:
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddFooter.center.text == "Page &P of &N"
        assert "AUDITED" in sheet.oddHeader.left.text
    text = [c.value for row in wb["Text"].iter_rows() for c in row if c.value]
    assert any(str(t).startswith("Note 10") for t in text)


def test_html_has_contents_and_aligned_numbers(reports):
    html = render_html(reports[2025]).decode()
    assert 'aria-label="Contents"' in html and 'href="#statement-i"' in html
    assert '<th scope="col" class="num">2025</th>' in html
    assert "Statement IV — Comparison of budget and actual amounts" in html


def test_fund_balance_amount_in_notes_has_separators(reports):
    for note in reports[2025].statements.notes:
        for paragraph in note.paragraphs:
            for amount in re.findall(r"CHF (-?[\d,]+\.\d\d)", paragraph):
                digits = amount.lstrip("-").split(".")[0]
                assert len(digits) <= 3 or "," in digits, paragraph
