"""Charts where a picture helps: contributions by State, budget vs actual,
the buffer's trend. ``chart_specs`` says what to draw (plain data, from the
model); ``drawing`` draws one spec with ReportLab's graphics (used by the PDF
and, as SVG, by the HTML renderer).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ledger.money import rounded

from reports.model import AnnualReport, BudgetReport, BufferReport, ContributionsReport, OutlookReport
from reports.tables import line_label

PALETTE = (colors.HexColor("#1f4e79"), colors.HexColor("#c55a11"), colors.HexColor("#548235"),
           colors.HexColor("#7f7f7f"), colors.HexColor("#bf9000"))
MAX_BARS = 20


@dataclass(frozen=True)
class ChartSpec:
    kind: str  # "hbar" | "bar" | "line"
    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[Decimal, ...]], ...]  # (name, values)


def contributions_chart(r: ContributionsReport) -> ChartSpec | None:
    rows = sorted(r.rows, key=lambda x: x.received, reverse=True)[:MAX_BARS]
    if not rows:
        return None
    return ChartSpec("hbar", f"Received for {r.header.year} by State Party (CHF, largest {len(rows)})",
                     tuple(x.name for x in rows),
                     (("Received", tuple(x.received for x in rows)),
                      ("Pledged", tuple(x.pledged or Decimal(0) for x in rows))))


def budget_chart(r: BudgetReport) -> ChartSpec | None:
    if not r.lines:
        return None
    return ChartSpec("bar", f"Budget and actual {r.header.year} (CHF)", tuple(line_label(b.line) for b in r.lines),
                     (("Final budget", tuple(b.final for b in r.lines)), ("Actual", tuple(b.actual for b in r.lines))))


def buffer_chart(r: BufferReport) -> ChartSpec | None:
    if len(r.trend) < 1:
        return None
    return ChartSpec("line", "Buffer balance at year end (CHF)", tuple(str(y) for y, _ in r.trend),
                     (("Buffer", tuple(v for _, v in r.trend)),))


MONTH_LABELS = ("Start", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def outlook_chart(r: OutlookReport) -> ChartSpec | None:
    """Cumulative receipts by month, this year against the earlier years and
    the budget; months after the as-of date are left out of this year's line."""
    if not r.months:
        return None
    y = r.header.year
    series = [(f"{y}", tuple(m.cumulative for m in r.months))]
    series += [(f"{p}", tuple(m.previous[i] for m in r.months)) for i, p in enumerate(r.previous_years)]
    series.append((f"Budget {y}", tuple(r.budget for _ in r.months)))
    return ChartSpec("months", f"Receipts for {y}, cumulative by month, against earlier years (CHF)", MONTH_LABELS,
                     tuple(series))


def chart_specs(report) -> list[ChartSpec]:
    if isinstance(report, ContributionsReport):
        found = [contributions_chart(report)]
    elif isinstance(report, BudgetReport):
        found = [budget_chart(report)]
    elif isinstance(report, BufferReport):
        found = [buffer_chart(report)]
    elif isinstance(report, OutlookReport):
        found = [outlook_chart(report)]
    elif isinstance(report, AnnualReport):
        found = [contributions_chart(report.contributions), budget_chart(report.budget), buffer_chart(report.buffer)]
    else:
        found = []
    return [c for c in found if c is not None]


def _numbers(values) -> list:
    # ReportLab's charts need plain numbers for geometry; the figures
    # themselves are printed from the Decimal model, never from these.
    return [None if v is None else int(rounded(v, 1)) for v in values]


def drawing(spec: ChartSpec, width: float = 480, height: float = 240) -> Drawing:
    if spec.kind == "hbar":
        height = max(height, 40 + 18 * len(spec.categories))
    d = Drawing(width, height)
    d.add(String(0, height - 12, spec.title, fontName="Helvetica-Bold", fontSize=10))
    if spec.kind in ("bar", "hbar"):
        chart = HorizontalBarChart() if spec.kind == "hbar" else VerticalBarChart()
        # Room for the longest category label (State names in full) left of the bars.
        left = 10 + max(stringWidth(c, "Helvetica", 7) for c in spec.categories) if spec.kind == "hbar" else 60
        chart.x, chart.y = (left, 30) if spec.kind == "hbar" else (60, 60)
        chart.width, chart.height = width - left - 20, height - (70 if spec.kind == "hbar" else 100)
        chart.data = [_numbers(values) for _, values in spec.series]
        chart.categoryAxis.categoryNames = list(spec.categories)
        chart.categoryAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
        if spec.kind == "bar":
            chart.categoryAxis.labels.angle = 30
            chart.categoryAxis.labels.boxAnchor = "ne"
        for i in range(len(spec.series)):
            chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        d.add(chart)
    else:
        # A time axis to scale: years plotted at their value, or months 0 (start) to 12.
        xs = list(range(len(spec.categories))) if spec.kind == "months" else [int(c) for c in spec.categories]
        chart = LinePlot()
        chart.x, chart.y, chart.width, chart.height = 60, 30, width - 80, height - 70
        chart.data = [[(x, v) for x, v in zip(xs, _numbers(values), strict=True) if v is not None]
                      for _, values in spec.series]
        chart.xValueAxis.valueMin, chart.xValueAxis.valueMax = xs[0] - 0.5, xs[-1] + 0.5
        chart.xValueAxis.valueSteps = xs
        labels = dict(zip(xs, spec.categories, strict=True))
        chart.xValueAxis.labelTextFormat = lambda v: labels.get(int(v), "")
        chart.xValueAxis.labels.fontSize = 7
        chart.yValueAxis.labels.fontSize = 7
        chart.lines[0].symbol = makeMarker("FilledCircle", size=3)
        chart.yValueAxis.valueMin = 0
        chart.yValueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
        for i in range(len(spec.series)):
            chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
            chart.lines[i].strokeWidth = 2 if i == 0 else 1
        d.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 110, height - 20
    legend.fontSize = 7
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, (name, _) in enumerate(spec.series)]
    d.add(legend)
    return d
