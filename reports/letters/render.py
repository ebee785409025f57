"""A worded letter as a one-page A4 PDF (ReportLab, as the reports).

The letterhead names the Unit and the Convention in the letter's language;
then place and date, the subject, the paragraphs. Every piece of text is
escaped before ReportLab reads it (its paragraphs take markup), so a State's
name, a pledge's note or a staff template cannot inject any. Reproducible:
ReportLab's ``invariant`` mode, so the same letter gives the same bytes and
the same SHA-256.
"""

from __future__ import annotations

import hashlib
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from reports.letters.wording import Worded
from reports.render_pdf import BOLD, FONT

_HEAD = ParagraphStyle("letterhead", fontName=BOLD, fontSize=13, leading=16, textColor=colors.HexColor("#1f3a5f"))
_SUB = ParagraphStyle("convention", fontName=FONT, fontSize=9, leading=12, textColor=colors.HexColor("#444444"))
_BODY = ParagraphStyle("letter", fontName=FONT, fontSize=10.5, leading=14.5, spaceAfter=8)
_SUBJECT = ParagraphStyle("subject", parent=_BODY, fontName=BOLD, spaceBefore=6, spaceAfter=10)
_DATE = ParagraphStyle("date", parent=_BODY, alignment=2)  # right
_DETAIL = ParagraphStyle("detail", parent=_BODY, leftIndent=10 * mm, spaceAfter=1)


def _printable(text: str) -> str:
    """Text the standard PDF fonts can set: CLDR's narrow no-break space
    (French thousands) as a no-break space, control characters as spaces."""
    text = text.replace("\u202f", "\u00a0")
    return "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_printable(text)), style)


def _block(paragraph: str) -> list:
    """A paragraph of the template: its detail lines (two leading spaces)
    one per line, the rest joined into running text."""
    out, running = [], []
    for line in paragraph.split("\n"):
        if line.startswith("  ") and line.strip():
            if running:
                out.append(_para(" ".join(running), _BODY))
                running = []
            out.append(_para(line.strip(), _DETAIL))
        elif line.strip():
            running.append(line.strip())
    if running:
        out.append(_para(" ".join(running), _BODY))
    if out and out[-1].style is _DETAIL:
        out.append(Spacer(1, 6))
    return out


def render_letter(worded: Worded, title: str) -> bytes:
    """The PDF of a worded letter."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=_printable(title), author=worded.heading, creator="isu-ledger",
                            lang=worded.language, invariant=1)
    story = [_para(worded.heading, _HEAD), _para(worded.convention, _SUB), Spacer(1, 14 * mm),
             _para(worded.place_date, _DATE), _para(worded.subject, _SUBJECT)]
    for paragraph in worded.paragraphs:
        story += _block(paragraph)
    doc.build(story)
    return out.getvalue()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
