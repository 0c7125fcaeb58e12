"""Inline SVG pictures (no script, no tiles, no network): weekday × hour grid, day timeline, trail.

Each function returns SVG text with ``role="img"`` and a ``<title>``; the same figures are given as text
by the view model, for screen readers and for the Markdown report.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

from auditor.i18n import t

CELL, LEFT, TOP = 22, 44, 18


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def weekday_grid(grid: list[list[int]], lang: str) -> str:
    peak = max((max(row) for row in grid), default=0) or 1
    days = [escape(name) for name in t("report.weekdays", lang).split(",")]
    body: list[str] = []
    for hour in range(0, 24, 3):
        body.append(f'<text x="{LEFT + hour * CELL + 2}" y="12" font-size="11">{hour}h</text>')
    for day, row in enumerate(grid):
        y, name = TOP + day * CELL, days[day]
        body.append(f'<text x="0" y="{y + 15}" font-size="12">{name}</text>')
        for hour, n in enumerate(row):
            fill = f'fill="#1f5fa8" fill-opacity="{0.08 + 0.92 * n / peak:.2f}"' if n else 'fill="#f1f1f1"'
            body.append(f'<rect x="{LEFT + hour * CELL}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" {fill}>'
                        f'<title>{name} {hour}h : {n}</title></rect>')
    return _svg(LEFT + 24 * CELL, TOP + 7 * CELL, t("report.chart.grid", lang), body)


def hourly_bars(by_hour: list[dict[str, Any]], lang: str, ident: str, width: int = 720) -> str:
    """Records per hour of the day; hours seen for fewer than k agents drawn as grey hatched slots, no bar."""
    left, span, base, tall = 12, width - 36, 96, 80
    peak = max((int(h["records"]) for h in by_hour if not h["masked"]), default=0) or 1
    slot = span / 24
    body = [f'<defs><pattern id="masked-{ident}" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="3" height="6" fill="#bbb"/></pattern></defs>']
    for h in by_hour:
        first, last = int(h["hour"]), int(h["until"])
        x = left + slot * first
        if h["masked"]:
            label = escape(str(h["records"]))
            body.append(f'<rect x="{x:.1f}" y="{base - 14}" width="{slot * (last - first + 1) - 2:.1f}" height="14" '
                        f'fill="url(#masked-{ident})"><title>{first}h–{last + 1}h : {label}</title></rect>')
        else:
            height = max(1.0, tall * int(h["records"]) / peak)
            body.append(f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{slot - 2:.1f}" height="{height:.1f}" '
                        f'fill="#1f5fa8"><title>{first}h : {h["records"]}</title></rect>')
    for hour in range(0, 25, 2):
        x = left + slot * hour
        body.append(f'<text x="{x - 6:.1f}" y="{base + 14}" font-size="11">{hour}h</text>')
    return _svg(width, base + 20, t("report.chart.hours", lang), body)


def retention_bar(span_days: float, limits: list[tuple[str, float]], lang: str, width: int = 720) -> str:
    """How far back your records go (blue) against each retention limit (vertical marks, labelled)."""
    left, span = 12, width - 40
    longest = max([span_days, *(days for _, days in limits)]) or 1.0
    scale = span / longest
    body = [f'<rect x="{left}" y="18" width="{max(2.0, span_days * scale):.1f}" height="22" fill="#1f5fa8"/>']
    for i, (label, days) in enumerate(limits):
        x = left + days * scale
        body.append(f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="48" stroke="#b3261e" stroke-width="2"/>'
                    f'<text x="{min(x + 4, width - 150):.1f}" y="{60 + 14 * i}" font-size="11">{escape(label)}</text>')
    return _svg(width, 64 + 14 * len(limits), t("report.chart.retention", lang), body)


def day_timeline(day: str, times: list[datetime], lang: str, width: int = 720) -> str:
    left, span = 12, width - 36
    body = [f'<rect x="{left + span * 8.5 / 24:.1f}" y="14" width="{span * 9 / 24:.1f}" height="26" fill="#cfe8c4"/>']
    for hour in range(0, 25, 2):
        x = left + span * hour / 24
        body.append(f'<line x1="{x:.1f}" y1="40" x2="{x:.1f}" y2="46" stroke="#555"/>'
                    f'<text x="{x - 6:.1f}" y="58" font-size="11">{hour}h</text>')
    for moment in times:
        x = left + span * (moment.hour + moment.minute / 60 + moment.second / 3600) / 24
        body.append(f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="38" stroke="#b3261e" stroke-width="1.5"/>')
    return _svg(width, 64, t("report.chart.timeline", lang, day=day), body)


def trail(points: list[tuple[float, float]], lang: str, size: int = 560) -> str:
    """Positions in a local equirectangular projection (x scaled by cos of the mean latitude), with a scale."""
    if not points:
        return ""
    lat0 = sum(p[0] for p in points) / len(points)
    kx = 111_320 * math.cos(math.radians(lat0))
    xs = [lon * kx for _, lon in points]
    ys = [lat * 110_540 for lat, _ in points]
    width_m, height_m = max(max(xs) - min(xs), 50.0), max(max(ys) - min(ys), 50.0)
    extent = max(width_m, height_m, 200.0)
    pad, inner = 20, size - 40
    scale = inner / extent
    height = int(height_m * scale) + 2 * pad

    def xy(i: int) -> str:
        return f"{pad + (xs[i] - min(xs)) * scale:.1f},{pad + (max(ys) - ys[i]) * scale:.1f}"

    path = " ".join(xy(i) for i in range(len(points)))
    metres = _nice(extent / 4)
    bar = metres * scale
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    body = [
        f'<rect width="{size}" height="{height + 30}" fill="#fafafa"/>',
        f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="1.2" stroke-opacity="0.7"/>',
        f'<circle cx="{xy(0).split(",")[0]}" cy="{xy(0).split(",")[1]}" r="4" fill="#2e7d32"/>',
        f'<circle cx="{xy(len(points) - 1).split(",")[0]}" cy="{xy(len(points) - 1).split(",")[1]}" r="4" '
        f'fill="#b3261e"/>',
        f'<line x1="{pad}" y1="{height + 12}" x2="{pad + bar:.1f}" y2="{height + 12}" stroke="#000" stroke-width="3"/>',
        f'<text x="{pad + bar + 6:.1f}" y="{height + 16}" font-size="12">{label}</text>',
    ]
    return _svg(size, height + 30, t("report.chart.trail", lang, n=len(points)), body)


def _nice(value: float) -> float:
    """1, 2 or 5 × a power of ten, at most ``value``."""
    power = 10 ** math.floor(math.log10(value))
    return float(max(m * power for m in (1, 2, 5) if m * power <= value))
