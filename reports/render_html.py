"""HTML (Jinja2, autoescaped): the same sections, tables and charts as the
PDF, for the web app and the browser. Charts are inline SVG drawn by
ReportLab from the model's figures (no user text is drawn unescaped:
ReportLab's SVG renderer escapes labels)."""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.graphics import renderSVG

from reports.charts import chart_specs, drawing
from reports.document import report_sections
from reports.financial import CONVENTION, ENTITY
from reports.render_pdf import cell_text, numeric_columns
from reports.tables import title

_ENV = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]))


def _svg(spec) -> str:
    text = renderSVG.drawToString(drawing(spec))
    return text[text.index("<svg"):] if "<svg" in text else text


def anchor(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def render_html(report) -> bytes:
    html = _ENV.get_template("report.html").render(
        title=title(report),
        header=report.header,
        sections=report_sections(report),
        charts=[_svg(spec) for spec in chart_specs(report)],
        cell=cell_text,
        numeric_columns=numeric_columns,
        anchor=anchor,
        convention=CONVENTION,
        entity=ENTITY,
    )
    return html.encode("utf-8")
