"""Small charts drawn on the server as SVG: the geometry is computed here, the elements are
written by templates/practice/_charts.html (no script, no inline style: colours come from
classes in static/css/imago.css). Every chart has a text table beside it for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 16, 40


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str  # what a screen reader or a tooltip says ("12 Mar: 4 of 5")


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # "series-1", "series-2"...
    points: str  # SVG polyline points
    dots: list[Dot]


@dataclass(frozen=True)
class Tick:
    at: float
    label: str
    minor: bool = False  # hidden on a narrow screen, where every other label is enough


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    series: list[Series] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, name)
    line_at: float | None = None  # a horizontal reference line (a cut-off), as its y
    line_label: str = ""

    @property
    def empty(self) -> bool:
        return not self.series and not self.bars


def _x_positions(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [(left + right) / 2]
    step = (right - left) / (count - 1)
    return [round(left + i * step, 1) for i in range(count)]


def _sparse(labels: list[str], xs: list[float], most: int = 8) -> list[Tick]:
    every = max(1, -(-len(labels) // most))
    shown = [
        (x, label) for i, (x, label) in enumerate(zip(xs, labels, strict=True)) if i % every == 0
    ]
    return [Tick(x, label, minor=i % 2 == 1) for i, (x, label) in enumerate(shown)]


def line_chart(
    *,
    labels: list[str],
    series: list[tuple[str, list[int | None]]],
    low: int,
    high: int,
    step: int = 1,
    line_at: float | None = None,
    line_label: str = "",
    left: int = LEFT,
) -> Chart:
    """One line per named series over the labelled points; a missing value breaks no line
    (the line joins the values there are). `step`: the y ticks' spacing; `line_at`: a value
    drawn as a dashed horizontal line labelled `line_label` (a questionnaire's cut-off);
    `left`: room for the y labels (three digits need more)."""
    chart = Chart(left=left)
    if not labels:
        return chart
    xs = _x_positions(len(labels), chart.left + 12, chart.right - 12)
    span = chart.bottom - chart.top

    def y_of(value: float) -> float:
        return round(chart.bottom - (value - low) / (high - low) * span, 1)

    chart.y_ticks = [Tick(y_of(v), number_format(v)) for v in range(low, high + 1, step)]
    if line_at is not None:
        chart.line_at, chart.line_label = y_of(line_at), line_label
    chart.x_ticks = _sparse(labels, xs)
    for index, (name, values) in enumerate(series):
        css = f"series-{index + 1}"
        dots = [
            Dot(
                x,
                y_of(v),
                # Translators: a dot of a chart: "Alex, 3 Mar: 4 of 5".
                _("%(name)s, %(day)s: %(value)s of %(high)s")
                % {"name": name, "day": label, "value": v, "high": high},
            )
            for x, label, v in zip(xs, labels, values, strict=True)
            if v is not None
        ]
        if dots:
            chart.series.append(Series(name, css, " ".join(f"{d.x},{d.y}" for d in dots), dots))
            chart.legend.append((css, name))
    return chart


def bar_chart(*, labels: list[str], stacks: list[tuple[str, list[int]]]) -> Chart:
    """Stacked bars: one bar per label, one colour per named stack."""
    chart = Chart()
    if not labels:
        return chart
    totals = [sum(values[i] for _, values in stacks) for i in range(len(labels))]
    top = max([*totals, 1])
    top = top if top <= 4 else top + (-top % 2)
    span = chart.bottom - chart.top
    slot = (chart.right - chart.left) / len(labels)
    width = round(min(48.0, slot * 0.6), 1)
    xs = [round(chart.left + slot * (i + 0.5), 1) for i in range(len(labels))]
    every = 1 if top <= 6 else -(-top // 5)
    chart.y_ticks = [
        Tick(round(chart.bottom - v / top * span, 1), number_format(v))
        for v in range(0, top + 1, every)
    ]
    chart.x_ticks = _sparse(labels, xs)
    base = [0] * len(labels)
    for index, (name, values) in enumerate(stacks):
        css = f"series-{index + 1}"
        chart.legend.append((css, name))
        for i, value in enumerate(values):
            if not value:
                continue
            height = round(value / top * span, 1)
            y = round(chart.bottom - (base[i] + value) / top * span, 1)
            # Translators: a bar of a chart: "3 Mar: Alex 2" (the week, who or what, how many).
            label = _("%(day)s: %(name)s %(count)s") % {
                "day": labels[i],
                "name": name,
                "count": value,
            }
            chart.bars.append(Bar(xs[i] - width / 2, y, width, height, css, label))
            base[i] += value
    if not any(totals):
        chart.bars = []
    return chart


def sparkline(values: list[float], *, low: float = 1, high: float = 5) -> str:
    """Polyline points for a tiny 100 by 24 trend line (empty: nothing to draw)."""
    if len(values) < 2:
        return ""
    xs = _x_positions(len(values), 2, 98)
    return " ".join(
        f"{x},{round(22 - (v - low) / (high - low) * 20, 1)}"
        for x, v in zip(xs, values, strict=True)
    )
