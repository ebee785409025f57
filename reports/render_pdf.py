"""PDF (ReportLab): A4, print-ready, banner on every page, page numbers, charts.

Reproducible: ReportLab's ``invariant`` mode fixes the creation date and the
document id, so the same report gives the same bytes.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from xml.sax.saxutils import escape

from ledger import money

from reports.charts import chart_specs, drawing
from reports.model import AUDITED, Table
from reports.tables import report_tables, title

_STYLES = getSampleStyleSheet()


def cell_text(value) -> str:
    """A cell as printed: amounts with thousands separators, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return money.grouped(value) if value.as_tuple().exponent == -2 else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _table(table: Table, width: float) -> list:
    small = _STYLES["BodyText"].clone("cell", fontSize=7.5, leading=9)
    head = [Paragraph(f"<b>{escape(c)}</b>", small) for c in table.columns]
    body = [[Paragraph(escape(cell_text(v)), small) if isinstance(v, str) else cell_text(v) for v in row]
            for row in table.rows]
    data = [head, *body]
    if table.totals is not None:
        data.append([cell_text(v) for v in table.totals])
    numeric = {i for row in table.rows for i, v in enumerate(row) if isinstance(v, (Decimal, int)) and not isinstance(v, bool)}
    t = LongTable(data, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f2f2")]),
    ]
    for i in numeric:
        style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
    if table.totals is not None:
        style += [("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black), ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 7.5)]
    t.setStyle(TableStyle(style))
    parts = [Paragraph(escape(table.title), _STYLES["Heading3"]), t]
    if table.note:
        parts.append(Paragraph(escape(table.note), small))
    return [KeepTogether(parts[:2]), *parts[2:], Spacer(1, 5 * mm)]


def _provenance(report) -> list:
    h = report.header
    lines = [f"Work-plan year {h.year} — as of {h.as_of.isoformat()} — amounts in {h.currency}",
             f"Ledger fingerprint (SHA-256): {h.ledger_sha256}", f"Ledger commit: {h.commit or 'not in git'}"]
    if h.audit is not None:
        lines.append(f"Audited by {h.audit.auditor}, opinion dated {h.audit.opinion_date.isoformat()}; "
                     f"signed-off fingerprint {h.audit.fingerprint}"
                     + ("" if h.audit.fingerprint_ok else " — THE BOOKS CHANGED SINCE SIGN-OFF"))
    style = _STYLES["BodyText"].clone("id", fontSize=8, leading=10)
    return [Paragraph(escape(t), style) for t in lines] + [Spacer(1, 4 * mm)]


def render_pdf(report) -> bytes:
    h = report.header
    banner = h.banner
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=22 * mm, bottomMargin=18 * mm,
        title=title(report), author="ISU — APMBC Implementation Support Unit", subject=banner,
        creator="isu-ledger", invariant=1,
    )

    def decorate(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 9)
        canvas.setFillColor(colors.HexColor("#006000") if h.status == AUDITED else colors.HexColor("#b00000"))
        canvas.drawString(doc.leftMargin, A4[1] - 12 * mm, banner)
        canvas.setFillColor(colors.black)
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(A4[0] - doc.rightMargin, A4[1] - 12 * mm, title(report))
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    story = [Paragraph(escape(title(report)), _STYLES["Title"]), *_provenance(report)]
    for spec in chart_specs(report):
        story += [drawing(spec, width=doc.width), Spacer(1, 5 * mm)]
    for table in report_tables(report):
        story += _table(table, doc.width)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
