"""Server-side SVG charts: no scripts, no inline styles (the CSP forbids both), classes only.

Each function returns safe SVG markup with a <title> and <desc>, and is paired in the templates
with a table of the same figures and a CSV download.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_ids = itertools.count(1)

WIDTH = 720


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    target: int | None = None
    css: str = "bar"


def _number(value: float) -> str:
    return f"{round(value):,}"


def _svg(title: str, desc: str, height: int, body: list[str]) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308 - every text piece below is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-{n}-title chart-{n}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{n}-title">{escape(title)}</title>'
        f'<desc id="chart-{n}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` that splits into four whole-number steps."""
    if value <= 4:
        return 4
    raw_step = value / 4
    magnitude = 10 ** (len(str(int(raw_step))) - 1)
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if step >= raw_step and step == int(step):
            return step * 4
    return 40 * magnitude


def horizontal_bars(*, title: str, desc: str, bars: Sequence[Bar]) -> SafeString:
    """One bar per row, with an optional target drawn as a pale bar behind and a marker line."""
    label_w, right_pad, row_h = 190, 170, 30
    height = 20 + row_h * max(len(bars), 1)
    top = max([b.value for b in bars] + [b.target or 0 for b in bars] + [1])
    scale = (WIDTH - label_w - right_pad) / _nice_max(top)
    body = [f'<line class="axis" x1="{label_w}" y1="10" x2="{label_w}" y2="{height - 10}"/>']
    for i, bar in enumerate(bars):
        y = 14 + i * row_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(bar.label)}</text>'
        )
        if bar.target:
            w = bar.target * scale
            body.append(
                f'<rect class="bar-target" x="{label_w}" y="{y}" width="{w:.1f}" height="20"/>'
                f'<line class="target-line" x1="{label_w + w:.1f}" y1="{y - 2}" '
                f'x2="{label_w + w:.1f}" y2="{y + 22}"/>'
            )
        w = bar.value * scale
        body.append(
            f'<rect class="{escape(bar.css)}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="12"/>'
        )
        text = _number(bar.value)
        if bar.target:
            text += f" / {_number(bar.target)} ({bar.value / bar.target:.0%})"
        x = label_w + max(w, (bar.target or 0) * scale) + 6
        body.append(f'<text class="value" x="{x:.1f}" y="{y + 15}">{text}</text>')
    return _svg(title, desc, height, body)


def columns(*, title: str, desc: str, points: Sequence[tuple[str, int]]) -> SafeString:
    """Vertical columns over time (e.g. enrollments per month); every few labels are shown."""
    left, bottom, top_pad, height = 60, 40, 16, 260
    plot_h = height - bottom - top_pad
    top = _nice_max(max([v for _, v in points] + [1]))
    n = max(len(points), 1)
    slot = (WIDTH - left - 10) / n
    body = _y_axis(left, top_pad, plot_h, top)
    every = -(-n // 8)  # at most eight labels, so they never overlap
    for i, (label, value) in enumerate(points):
        h = value / top * plot_h
        x = left + i * slot
        body.append(
            f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{top_pad + plot_h - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}"><title>{escape(label)}: '
            f"{_number(value)}</title></rect>"
        )
        if i % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(title, desc, height, body)


def _y_axis(left: int, top_pad: int, plot_h: float, top: float) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = top_pad + plot_h - plot_h * k / 4
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}"/>'
    )
    return parts


def grouped_columns(
    *, title: str, desc: str, groups: Sequence[str], series: Sequence[tuple[str, str, list[int]]]
) -> SafeString:
    """Columns grouped by category (e.g. age band) with one column per series (e.g. sex).

    ``series`` is (label, css class, values in the order of ``groups``)."""
    left, bottom, top_pad, height = 60, 40, 16, 260
    plot_h = height - bottom - top_pad
    top = _nice_max(max([v for _, _, values in series for v in values] + [1]))
    slot = (WIDTH - left - 10) / max(len(groups), 1)
    col_w = slot * 0.8 / max(len(series), 1)
    body = _y_axis(left, top_pad, plot_h, top)
    for g, group in enumerate(groups):
        x0 = left + g * slot + slot * 0.1
        for s, (label, css, values) in enumerate(series):
            h = values[g] / top * plot_h
            body.append(
                f'<rect class="{escape(css)}" x="{x0 + s * col_w:.1f}" '
                f'y="{top_pad + plot_h - h:.1f}" width="{col_w * 0.9:.1f}" height="{h:.1f}">'
                f"<title>{escape(group)}, {escape(label)}: {_number(values[g])}</title></rect>"
            )
        body.append(
            f'<text x="{left + g * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(group)}</text>'
        )
    return _svg(title, desc, height, body)


def forecast_line(
    *,
    title: str,
    desc: str,
    actual: Sequence[tuple[dt.date, int]],
    today: dt.date,
    enrolled: int,
    projected: int,
    end: dt.date,
    target: int,
) -> SafeString:
    """Cumulative enrollment so far, the projection at the recent rate to ``end`` (dashed) and the
    straight line needed to reach ``target`` (dotted), with the target as a horizontal line."""
    left, bottom, top_pad, height = 70, 40, 16, 280
    plot_h = height - bottom - top_pad
    start = actual[0][0] if actual else today
    span = max((end - start).days, 1)
    top = _nice_max(max([target, projected, enrolled] + [v for _, v in actual] + [1]))

    def xy(day: dt.date, value: float) -> str:
        x = left + (day - start).days / span * (WIDTH - left - 20)
        y = top_pad + plot_h - value / top * plot_h
        return f"{x:.1f},{y:.1f}"

    body = _y_axis(left, top_pad, plot_h, top)
    target_y = top_pad + plot_h - target / top * plot_h
    body.append(
        f'<line class="target-line" x1="{left}" y1="{target_y:.1f}" x2="{WIDTH - 20}" '
        f'y2="{target_y:.1f}"/><text x="{WIDTH - 22}" y="{target_y - 6:.1f}" '
        f'text-anchor="end">{_number(target)}</text>'
    )
    if actual:
        points = " ".join(xy(day, value) for day, value in actual)
        body.append(f'<polyline class="line-actual" points="{points}"/>')
    body.append(
        f'<polyline class="line-projected" points="{xy(today, enrolled)} {xy(end, projected)}"/>'
    )
    body.append(f'<polyline class="line-needed" points="{xy(today, enrolled)} {xy(end, target)}"/>')
    for year in range(start.year + 1, end.year + 1):
        day = dt.date(year, 1, 1)
        x = xy(day, 0).split(",")[0]
        body.append(
            f'<text x="{x}" y="{height - bottom + 16}" text-anchor="middle">{year}</text>'
            f'<line class="grid" x1="{x}" y1="{top_pad + plot_h}" x2="{x}" y2="{top_pad + plot_h + 4}"/>'
        )
    return _svg(title, desc, height, body)
