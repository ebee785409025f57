"""XLSX (openpyxl): a cover sheet with the contents, then one sheet per table
of the report's sections (``reports.document``); the sections' text (the
Director's statement, the auditor's report, the notes) on a sheet of its own.

Numbers are numbers (Decimal written as numbers with a CHF format), dates are
dates, text is text - never a formula, whoever wrote it - and totals rows are
the model's totals (bold, top border); ratios are percentages, a missing
figure is "—". Every sheet prints on A4 at page width with its column
headings repeated, the status in the page header and "Page x of y" below.
The workbook's
created/modified dates are fixed to the report's as-of date, and the zip
members inside carry a fixed timestamp, so the same books give the same bytes.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Border, Font, Side
from openpyxl.utils import get_column_letter

from ledger.finance.workbooks import sheet_value, texts_stay_text
from reports.document import report_sections
from reports.model import AUDITED, Percent, Table
from reports.render_pdf import NO_VALUE
from reports.tables import title

MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00##"
PERCENT_FORMAT = "0.0%"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BOLD = Font(bold=True)
_TOP = Border(top=Side(style="thin"))


def _write_table(ws, table: Table) -> None:
    ws.append([sheet_value(table.title)])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([sheet_value(name) for name in table.columns])
    for cell in ws[2]:
        cell.font = _BOLD
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    for index, row in enumerate(rows):
        ws.append([_value(v) for v in row])  # Decimal stays exact: a number cell
        for cell, value in zip(ws[ws.max_row], row, strict=False):
            if index in table.bold_rows:
                cell.font = _BOLD
            if isinstance(value, Percent):
                cell.number_format = PERCENT_FORMAT
            elif isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT if value.as_tuple().exponent == -2 else RATIO_FORMAT
            elif isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    if table.totals is not None:
        for cell in ws[ws.max_row]:
            cell.font = _BOLD
            cell.border = _TOP
    if table.note:
        ws.append([])
        ws.append([sheet_value(table.note)])
    for i, name in enumerate(table.columns, start=1):
        width = max([len(str(name))] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r) and r[i - 1] is not None])
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = "A3"
    _print_setup(ws, landscape=len(table.columns) > 5)
    ws.print_title_rows = "2:2"


def _value(value):
    if value is None:
        return NO_VALUE
    if isinstance(value, Percent):
        return sheet_value(value.fraction)
    return sheet_value(value)


def _print_setup(ws, landscape: bool) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "Page &P of &N"


def _status_header(ws, report) -> None:
    h = report.header
    ws.oddHeader.left.text = h.banner.replace("&", "&&")
    ws.oddHeader.left.color = "006000" if h.status == AUDITED else "B00000"
    ws.oddHeader.right.text = title(report).replace("&", "&&")


def _text_sheet(ws, sections) -> None:
    """The sections' text, one paragraph per row, wrapped."""
    from openpyxl.styles import Alignment

    ws.column_dimensions["A"].width = 110
    for section in sections:
        ws.append([sheet_value(section.title)])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=12 if section.level == 1 else 11)
        for paragraph in section.paragraphs:
            ws.append([sheet_value(paragraph)])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.append([])
    _print_setup(ws, landscape=False)


def _cover(ws, report) -> None:
    h = report.header
    ws.title = "Report"
    lines = [
        (title(report), None),
        (h.banner, None),
        ("Status", h.status),
        ("Work-plan year", h.year),
        ("As of", h.as_of),
        ("Currency", h.currency),
        ("Ledger fingerprint (SHA-256)", h.ledger_sha256),
        ("Ledger commit", h.commit or ""),
    ]
    if h.state_party:
        lines.insert(4, ("State Party", h.state_party))
    if h.audit is not None:
        lines += [("Auditor", h.audit.auditor), ("Audit opinion date", h.audit.opinion_date),
                  ("Signed-off fingerprint", h.audit.fingerprint),
                  ("Books unchanged since sign-off", "yes" if h.audit.fingerprint_ok else "NO")]
    for label, value in lines:
        ws.append([sheet_value(label)] if value is None else [label, sheet_value(value)])
        if isinstance(value, datetime.date):
            ws.cell(ws.max_row, 2).number_format = "yyyy-mm-dd"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"].font = Font(bold=True, color="B00000" if h.status != "audited" else "006000")
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 70


def _contents(ws, contents) -> None:
    ws.append([])
    ws.append(["Contents"])
    ws.cell(ws.max_row, 1).font = _BOLD
    for sheet, caption in contents:
        ws.append([sheet_value(sheet), sheet_value(caption)])
    _print_setup(ws, landscape=False)


def _sheet_title(key: str, used: set[str]) -> str:
    name = key[:31]
    n = 2
    while name in used:
        name = f"{key[:28]} {n}"
        n += 1
    used.add(name)
    return name


def render_xlsx(report) -> bytes:
    wb = Workbook()
    sections = report_sections(report)
    _cover(wb.active, report)
    used = {"Report"}
    contents = []
    if any(s.paragraphs for s in sections):
        ws = wb.create_sheet(_sheet_title("Text", used))
        _text_sheet(ws, [s for s in sections if s.paragraphs or not s.tables])
        contents.append((ws.title, "Statements by the Director and the auditor, and the notes"))
    for section in sections:
        for table in section.tables:
            ws = wb.create_sheet(_sheet_title(table.key, used))
            _write_table(ws, table)
            contents.append((ws.title, table.title))
    _contents(wb["Report"], contents)
    for ws in wb.worksheets:
        _status_header(ws, report)
    moment = datetime.datetime.combine(report.header.as_of, datetime.time(0, 0))
    wb.properties.creator = "isu-ledger"
    wb.properties.created = moment
    wb.properties.modified = moment
    wb.properties.lastModifiedBy = "isu-ledger"
    texts_stay_text(wb)
    raw = io.BytesIO()
    wb.save(raw)
    return normalise_zip(raw.getvalue(), moment)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def normalise_zip(data: bytes, moment: datetime.datetime) -> bytes:
    """The same workbook, reproducible: openpyxl stamps ``modified`` with the
    time of saving and every zip member with now; fix both."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, content)
    return out.getvalue()
