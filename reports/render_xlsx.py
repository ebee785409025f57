"""XLSX (openpyxl): a cover sheet, then one sheet per section (``reports.tables``).

Numbers are numbers (Decimal written as numbers with a CHF format), dates are
dates, text is text - never a formula, whoever wrote it - and totals rows are
the model's totals (bold, top border). The workbook's
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
from reports.model import Table
from reports.tables import report_tables, title

MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00##"
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
    for row in rows:
        ws.append([sheet_value(v) for v in row])  # Decimal stays exact: a number cell
        for cell, value in zip(ws[ws.max_row], row, strict=False):
            if isinstance(value, Decimal):
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
    _cover(wb.active, report)
    used = {"Report"}
    for table in report_tables(report):
        _write_table(wb.create_sheet(_sheet_title(table.key, used)), table)
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
