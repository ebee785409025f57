"""Charts as inline SVG, computed on the server: no script, no CDN, no
network; they print and they pass a strict Content-Security-Policy.

Each function returns plain geometry (numbers as strings for the SVG
attributes); the templates in ``templates/charts.html`` draw it. Amounts
are Decimal; only the pixel geometry is rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.money import rounded

ZERO = Decimal(0)


def _px(value: Decimal) -> str:
    return str(rounded(value, "0.1"))


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class Tick:
    """A value on the vertical axis: its label and height."""

    label: str
    y: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    maximum: Decimal
    baseline: str
    left: int = 0  # where the plot starts: the axis labels are left of it
    ticks: tuple[Tick, ...] = ()


def nice_step(maximum: Decimal, steps: int = 4) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) so that ``steps``
    of it reach at least ``maximum``."""
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / steps
    power = Decimal(10) ** raw.adjusted()
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def axis_label(value: Decimal) -> str:
    """``25000`` -> ``25k``, ``1500000`` -> ``1.5M``: short labels for an axis."""
    for size, suffix in ((Decimal(1000000), "M"), (Decimal(1000), "k")):
        if value >= size:
            return f"{(value / size).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def bar_chart(title: str, series: list[tuple[str, Decimal]], width: int = 560, height: int = 200) -> BarChart:
    """Vertical bars, one per (label, value), over a vertical axis with round
    values; negative values count as zero height."""
    top, bottom, left = 10, 24, 44
    plot = Decimal(height - top - bottom)
    maximum = max((v for _, v in series if v > 0), default=ZERO)
    step = nice_step(maximum)
    scale_top = step * 4
    n = max(len(series), 1)
    slot = Decimal(width - left) / n
    bars = []
    for i, (label, value) in enumerate(series):
        h = plot * value / scale_top if value > 0 else ZERO
        bars.append(
            Bar(label, value, _px(left + slot * i + slot * Decimal("0.15")), _px(top + plot - h), _px(slot * Decimal("0.7")), _px(h))
        )
    ticks = tuple(Tick(axis_label(step * k), _px(top + plot - plot * k / 4)) for k in range(5)) if maximum > 0 else ()
    return BarChart(title, width, height, tuple(bars), maximum, _px(Decimal(top) + plot), left, ticks)


@dataclass(frozen=True)
class Gauge:
    title: str
    value: Decimal
    target: Decimal | None
    ratio: Decimal | None  # value / target
    percent: str | None  # "83%"
    fill: str  # width of the filled part, px, of `width`
    width: int
    level: str  # "low" | "mid" | "ok": the colour class


def gauge(title: str, value: Decimal, target: Decimal | None, width: int = 360) -> Gauge:
    """A horizontal gauge of value against target (full at 100% or more)."""
    if target is None or target <= 0:
        return Gauge(title, value, target, None, None, "0", width, "mid")
    ratio = value / target
    shown = min(max(ratio, ZERO), Decimal(1))
    level = "ok" if ratio >= 1 else "mid" if ratio >= Decimal("0.5") else "low"
    percent = f"{rounded(ratio * 100, 1)}%"
    return Gauge(title, value, target, rounded(ratio), percent, _px(shown * width), width, level)


@dataclass(frozen=True)
class Pair:
    label: str
    first: Decimal
    second: Decimal
    first_w: str
    second_w: str
    y: str  # top of the first bar
    second_y: str  # top of the second bar
    first_text_y: str
    second_text_y: str


@dataclass(frozen=True)
class PairChart:
    """Horizontal paired bars (e.g. received vs budget, received vs pledged)."""

    title: str
    first_name: str
    second_name: str
    width: int
    height: int
    rows: tuple[Pair, ...]


def pair_chart(title: str, first_name: str, second_name: str, rows: list[tuple[str, Decimal, Decimal]], width: int = 420) -> PairChart:
    maximum = max((max(a, b) for _, a, b in rows), default=ZERO)
    scale = Decimal(width) / maximum if maximum > 0 else ZERO
    out = []
    for i, (label, a, b) in enumerate(rows):
        top = i * 34
        out.append(Pair(label, a, b, _px(max(a, ZERO) * scale), _px(max(b, ZERO) * scale), str(top), str(top + 15), str(top + 11), str(top + 26)))
    return PairChart(title, first_name, second_name, width, max(len(rows), 1) * 34, tuple(out))
