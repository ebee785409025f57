"""Report outputs: the CLI contract, PDFs rendered to PNG and read back,
XLSX reopened with openpyxl, HTML, and reproducible packs."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pypdfium2 as pdfium
import pytest

from ledger.loader import load_books
from reports import bql
from reports.annual import annual_report
from reports.contributions import contributions_report
from reports.pack import MANIFEST, build_pack
from reports.render_html import render_html
from reports.render_pdf import render_pdf
from reports.render_xlsx import render_xlsx


def pdf_pages(data: bytes) -> list[str]:
    """Each page rendered to PNG (must work) and its text."""
    pdf = pdfium.PdfDocument(data)
    texts = []
    for page in pdf:
        image = page.render(scale=1).to_pil()
        png = io.BytesIO()
        image.save(png, format="PNG")
        assert png.getvalue().startswith(b"\x89PNG") and image.size[0] > 500
        texts.append(page.get_textpage().get_text_range())
    return texts


def test_cli_contributions_json_contract(cli, report_books):
    code, out, err = cli(report_books, "report", "contributions", "--year", "2025", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    for key in ("report", "year", "currency", "status", "as_of", "ledger_sha256", "rows", "unidentified", "total_received"):
        assert key in doc
    assert (doc["report"], doc["currency"], doc["status"], doc["as_of"]) == ("contributions", "CHF", "preliminary", "2025-09-30")
    assert doc["ledger_sha256"] == load_books(report_books).fingerprint
    for row in doc["rows"]:
        assert set(row) >= {"state_party", "name", "pledged", "received", "outstanding"}
        assert row["received"].count(".") == 1 and len(row["received"].split(".")[1]) == 2


def test_cli_buffer_json_contract(cli, report_books):
    code, out, err = cli(report_books, "report", "buffer", "--year", "2025", "--as-of", "2025-06-30")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"report", "as_of", "balance", "target", "funded_ratio", "months_covered", "movements", "forecast"}
    assert doc["as_of"] == "2025-06-30" and isinstance(doc["funded_ratio"], str)


@pytest.mark.parametrize("args,message", [
    (("report", "annual", "--year", "2025", "--format", "pdf"), "needs -o"),
    (("report", "pack", "--year", "2025"), "-o FILE.zip"),
    (("report", "statement", "--year", "2025"), "--state-party"),
    (("report", "statement", "--year", "2025", "--state-party", "XXX"), "not in the registry"),
    (("report", "budget", "--year", "2025", "--as-of", "30.09.2025"), "not a date"),
])
def test_cli_refusals(cli, report_books, args, message):
    code, out, err = cli(report_books, *args)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_cli_no_ledger(cli, tmp_path):
    code, _, err = cli(tmp_path / "none", "report", "budget", "--year", "2025")
    assert code == 2 and "no ledger" in err


def test_pdf_preliminary_and_audited(auditor, head, report_books):
    books = load_books(report_books)
    prelim = pdf_pages(render_pdf(annual_report(books, 2025)))
    assert "PRELIMINARY — unaudited — as at 2025-09-30" in prelim[0]
    assert all(f"Page {i}" in text for i, text in enumerate(prelim, start=1))
    audited = "\n".join(pdf_pages(render_pdf(annual_report(books, 2024))))
    assert "AUDITED" in audited and auditor in audited and "2025-03-28" in audited
    assert books.fingerprint in audited.replace("\r", "").replace("\n", "")
    r = contributions_report(books, 2025)
    text = "\n".join(pdf_pages(render_pdf(r)))
    assert f"{r.total_received:,.2f}" in text


def test_pdf_and_xlsx_are_reproducible(report_books):
    books = load_books(report_books)
    r = annual_report(books, 2025)
    assert render_pdf(r) == render_pdf(r)
    assert render_xlsx(r) == render_xlsx(r)


def test_xlsx_totals(cli, report_books, tmp_path):
    out = tmp_path / "c.xlsx"
    code, _, err = cli(report_books, "report", "contributions", "--year", "2025", "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Report", "Contributions", "History"]
    ws = wb["Contributions"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    body, total = [r for r in rows if r[0] and r[0] != "Total" and isinstance(r[3], (int, float))], next(r for r in rows if r[0] == "Total")
    books = load_books(report_books)
    expected = sum(bql.received_by_state(books, 2025, contributions_report(books, 2025).header.as_of).values())
    assert Decimal(str(total[3])) == expected
    assert sum(Decimal(str(r[3])) for r in body) == expected
    assert ws.cell(3, 4).number_format == "#,##0.00"


def test_xlsx_annual_sheets_and_budget_totals(report_books, tmp_path):
    books = load_books(report_books)
    r = annual_report(books, 2024)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(r)))
    assert {"Report", "Text", "Statement I", "Statement II", "Statement III", "Statement IV", "Annex 1", "Annex 2",
            "Annex 3"} <= set(wb.sheetnames)
    assert wb["Report"]["A2"].value == "AUDITED"
    rows = list(wb["Statement IV"].iter_rows(min_row=3, values_only=True))
    total = next(row for row in rows if row[0] == "Total")
    lines = [row for row in rows if row[0] not in (None, "Total") and isinstance(row[3], (int, float))]
    assert Decimal(str(total[3])) == sum(Decimal(str(row[3])) for row in lines) == r.budget.total_actual


def test_html(report_books):
    books = load_books(report_books)
    html = render_html(annual_report(books, 2025)).decode()
    assert "PRELIMINARY — unaudited — as at 2025-09-30" in html and "<svg" in html
    assert "578,525.00" in html


def test_pack_is_reproducible(cli, auditor, report_books, tmp_path):
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    for path in (one, two):
        code, _, err = cli(report_books, "report", "pack", "--year", "2024", "-o", str(path))
        assert code == 0, err
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        names = zf.namelist()
        assert names == sorted(names)
        for item in manifest["files"]:
            assert hashlib.sha256(zf.read(item["name"])).hexdigest() == item["sha256"]
    books = load_books(report_books)
    from ledger.store.gitrepo import head

    assert manifest["ledger_commit"] == head(report_books) and manifest["ledger_sha256"] == books.fingerprint
    assert manifest["status"] == "audited" and manifest["audit"]["auditor"] == auditor
    files = {f["name"] for f in manifest["files"]}
    assert {"annual-2024.pdf", "annual-2024.xlsx", "contributions-2024.json", "budget-2024.xlsx", "buffer-2024.pdf"} <= files
    assert {f"statements/statement-2024-{s}.pdf" for s in ("CHE", "DEU", "ITA", "NOR", "SEN")} <= files
    again = build_pack(books, 2024, commit=head(report_books))
    assert again.manifest == manifest


def test_cli_outlook(cli, report_books, tmp_path):
    code, out, err = cli(report_books, "report", "outlook", "--year", "2025", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["report"] == "outlook" and {s["name"] for s in doc["scenarios"]} == {
        "all_pledges_paid", "received_only", "as_in_previous_years"}
    pdf = tmp_path / "o.pdf"
    code, _, err = cli(report_books, "report", "outlook", "--year", "2025", "--format", "pdf", "-o", str(pdf))
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF"), err
