"""PDF (ReportLab): A4, print-ready.

A cover (the Convention, the ISU, the report, its status and date), a table
of contents for the Annual Financial Report, then the report's sections
(``reports.document``). Every page carries the status (AUDITED /
PRELIMINARY) and "Page x of y".

Tables never break a word or a number: each column is at least as wide as
its longest word (numbers and dates are one word), and the text columns
share what is left; a table too wide for that is set in a smaller type.

Reproducible: ReportLab's ``invariant`` mode fixes the creation date and the
document id, so the same report gives the same bytes.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from ledger import money

from reports.charts import chart_specs, drawing
from reports.document import report_sections
from reports.financial import CONVENTION, ENTITY, day_label
from reports.model import AUDITED, Percent, Section, Table
from reports.tables import title

_STYLES = getSampleStyleSheet()
FONT, BOLD = "Helvetica", "Helvetica-Bold"
PAD = 6  # horizontal cell padding, both sides together (points)
NO_VALUE = "—"
_HEADINGS = {
    1: ParagraphStyle("h1", parent=_STYLES["Heading2"], fontSize=13, leading=16, spaceBefore=6, keepWithNext=1),
    2: ParagraphStyle("h2", parent=_STYLES["Heading3"], fontSize=10.5, leading=13, spaceBefore=4, keepWithNext=1),
}
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9, leading=12)


def cell_text(value) -> str:
    """A cell as printed: amounts with thousands separators, ratios as
    percentages, dates ISO, "—" for no value."""
    if value is None:
        return NO_VALUE
    if isinstance(value, Percent):
        return f"{money.rounded(value.fraction * 100, '0.1')} %"
    if isinstance(value, Decimal):
        return money.grouped(value) if value.as_tuple().exponent == -2 else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def is_numeric(value) -> bool:
    return isinstance(value, (Decimal, int, Percent, datetime.date)) and not isinstance(value, bool)


def numeric_columns(table: Table) -> set[int]:
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    return {i for row in rows for i, v in enumerate(row) if is_numeric(v)}


def _words_width(text: str, font: str, size: float) -> float:
    return max((stringWidth(w, font, size) for w in text.split()), default=0)


def column_widths(table: Table, available: float, size: float) -> list[float] | None:
    """Widths that keep every word and number whole, or None if they cannot fit."""
    numeric = numeric_columns(table)
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    least, natural = [], []
    for i, name in enumerate(table.columns):
        texts = [cell_text(r[i]) for r in rows if i < len(r)]
        head = _words_width(name, BOLD, size)
        if i in numeric:
            full = max([stringWidth(t, BOLD, size) for t in texts] + [head])
            least.append(full + PAD)
            natural.append(full + PAD)
        else:
            least.append(max([_words_width(t, FONT, size) for t in texts] + [head]) + PAD)
            natural.append(max([stringWidth(t, FONT, size) for t in texts] + [stringWidth(name, BOLD, size)]) + PAD)
    if sum(least) > available:
        return None
    if sum(natural) <= available:
        return natural
    spare = available - sum(least)
    stretch = [n - m for n, m in zip(natural, least, strict=True)]
    total = sum(stretch) or 1
    return [m + spare * s / total for m, s in zip(least, stretch, strict=True)]


def _fit(table: Table, available: float) -> tuple[float, list[float] | None]:
    for size in (8, 7, 6.5, 6):
        widths = column_widths(table, available, size)
        if widths is not None:
            return size, widths
    return 6, None  # too wide even so: let ReportLab split the longest words


def _table(table: Table, width: float, show_title: bool = True) -> list:
    size, widths = _fit(table, width)
    numeric = numeric_columns(table)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=size + 2, splitLongWords=widths is None)
    head_left = ParagraphStyle("head", parent=cell, fontName=BOLD)
    head_right = ParagraphStyle("headr", parent=head_left, alignment=TA_RIGHT)
    head = [Paragraph(escape(c), head_right if i in numeric else head_left) for i, c in enumerate(table.columns)]

    def row_cells(row):
        return [cell_text(v) if is_numeric(v) or v is None else Paragraph(escape(cell_text(v)), cell) for v in row]

    data = [head, *(row_cells(r) for r in table.rows)]
    if table.totals is not None:
        data.append(row_cells(table.totals))
    t = LongTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, size),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD / 2),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f2f2")]),
    ]
    style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numeric]
    for i in table.bold_rows:
        style.append(("FONT", (0, i + 1), (-1, i + 1), BOLD, size))
    if table.totals is not None:
        style += [("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black), ("FONT", (0, -1), (-1, -1), BOLD, size)]
    t.setStyle(TableStyle(style))
    parts = [t]
    if show_title:
        parts.insert(0, Paragraph(escape(table.title), _STYLES["Heading4"]))
    out = [KeepTogether(parts)] if len(table.rows) < 25 else parts
    if table.note:
        out.append(Paragraph(escape(table.note), ParagraphStyle("note", parent=cell, fontSize=7.5, leading=9.5)))
    return [*out, Spacer(1, 4 * mm)]


class _Heading(Paragraph):
    """A section heading that the table of contents lists."""

    def __init__(self, text: str, level: int, key: str):
        super().__init__(escape(text), _HEADINGS[min(level, 2)])
        self.toc_level, self.plain, self.key = level - 1, text, key


class _Document(SimpleDocTemplate):
    def afterFlowable(self, flowable):  # noqa: N802 (ReportLab's name)
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.key)
            self.notify("TOCEntry", (flowable.toc_level, flowable.plain, self.page, flowable.key))


def _numbered_canvas(banner: str, audited: bool, heading: str):
    """A canvas class that writes the status and "Page x of y" on every page
    once the number of pages is known."""

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int):
            width, height = A4
            self.saveState()
            self.setFont(BOLD, 9)
            self.setFillColor(colors.HexColor("#006000") if audited else colors.HexColor("#b00000"))
            self.drawString(18 * mm, height - 12 * mm, banner)
            self.setFillColor(colors.black)
            self.setFont(FONT, 8)
            self.drawRightString(width - 18 * mm, height - 12 * mm, heading)
            self.drawCentredString(width / 2, 10 * mm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def _cover(report) -> list:
    h = report.header
    big = ParagraphStyle("cover", parent=_STYLES["Title"], fontSize=22, leading=28)
    mid = ParagraphStyle("covermid", parent=_STYLES["Title"], fontSize=13, leading=17, fontName=FONT)
    status = ParagraphStyle("status", parent=mid, fontName=BOLD,
                            textColor=colors.HexColor("#006000") if h.status == AUDITED else colors.HexColor("#b00000"))
    if h.status == AUDITED:
        state = f"AUDITED — for the year ended 31 December {h.year}"
    else:
        state = f"PRELIMINARY — unaudited — as at {day_label(h.as_of)}"
    out = [Spacer(1, 30 * mm), Paragraph(escape(CONVENTION), mid), Spacer(1, 8 * mm),
           Paragraph(escape(f"{ENTITY} (ISU)"), mid), Spacer(1, 20 * mm),
           Paragraph(escape(title(report).removeprefix("ISU — ")), big), Spacer(1, 10 * mm),
           Paragraph(escape(state), status), Spacer(1, 6 * mm),
           Paragraph("Amounts in Swiss francs (CHF)", mid)]
    if h.audit is not None and h.status == AUDITED:
        firm = f", {h.audit.firm}" if h.audit.firm else ""
        out += [Spacer(1, 6 * mm), Paragraph(escape(f"Audited by {h.audit.auditor}{firm}; opinion dated "
                                                    f"{day_label(h.audit.opinion_date)}"), mid)]
    return out


def _provenance(report) -> Section:
    h = report.header
    lines = [f"Work-plan year {h.year}, as at {h.as_of.isoformat()}, amounts in {h.currency}.",
             f"Ledger fingerprint (SHA-256): {h.ledger_sha256}", f"Ledger commit: {h.commit or 'not in git'}"]
    if h.audit is not None:
        lines.append(f"Audited by {h.audit.auditor}, opinion dated {h.audit.opinion_date.isoformat()}; "
                     f"signed-off fingerprint {h.audit.fingerprint}"
                     + ("" if h.audit.fingerprint_ok else " — THE BOOKS CHANGED SINCE SIGN-OFF"))
    return Section(key="About", title="About this report", paragraphs=tuple(lines))


def _section(section: Section, width: float) -> list:
    """The heading, the text and the tables; the heading stays with what follows it."""
    head = [_Heading(section.title, section.level, section.key)]
    head += [Paragraph(escape(p), _BODY) for p in section.paragraphs]
    tables = [_table(t, width, show_title=not t.title.startswith(section.title)) for t in section.tables]
    if tables and len(section.tables[0].rows) < 25:
        return [KeepTogether(head + tables[0]), *(f for t in tables[1:] for f in t)]
    return head + [f for t in tables for f in t]


def render_pdf(report) -> bytes:
    h = report.header
    out = io.BytesIO()
    doc = _Document(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=22 * mm, bottomMargin=18 * mm,
        title=title(report), author="ISU — APMBC Implementation Support Unit", subject=h.banner,
        creator="isu-ledger", invariant=1,
    )
    sections = report_sections(report)
    story = _cover(report)
    if len(sections) > 4:
        contents = TableOfContents()
        contents.levelStyles = [ParagraphStyle("toc1", fontName=FONT, fontSize=10, leading=13, leftIndent=0),
                                ParagraphStyle("toc2", fontName=FONT, fontSize=9, leading=11.5, leftIndent=12)]
        story += [PageBreak(), Paragraph("Contents", _HEADINGS[1]), contents]
    story.append(PageBreak())
    for section in sections:
        story += _section(section, doc.width)
    specs = chart_specs(report)
    if specs:
        story.append(_Heading("Charts", 1, "Charts"))
        for spec in specs:
            story += [drawing(spec, width=doc.width), Spacer(1, 5 * mm)]
    if report.header.report != "annual":
        story += _section(_provenance(report), doc.width)
    doc.multiBuild(story, canvasmaker=_numbered_canvas(h.banner, h.status == AUDITED, title(report)))
    return out.getvalue()
