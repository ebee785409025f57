"""HTML (Jinja2, autoescaped): the same tables and charts as the PDF, for the
web app and the browser. Charts are inline SVG drawn by ReportLab."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.graphics import renderSVG

from reports.charts import chart_specs, drawing
from reports.render_pdf import cell_text
from reports.tables import report_tables, title

_ENV = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]))


def _svg(spec) -> str:
    text = renderSVG.drawToString(drawing(spec))
    return text[text.index("<svg"):] if "<svg" in text else text


def render_html(report) -> bytes:
    html = _ENV.get_template("report.html").render(
        title=title(report),
        header=report.header,
        tables=report_tables(report),
        charts=[_svg(spec) for spec in chart_specs(report)],
        cell=cell_text,
    )
    return html.encode("utf-8")
