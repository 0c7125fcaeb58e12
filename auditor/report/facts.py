"""Facts about one agent's rows of one tool: span, precision, what the employer can compute.

Everything here receives tables already filtered to one agent, so no other agent's figure can leak in.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from auditor.i18n import format_day, format_moment

LOCAL = ZoneInfo("Europe/Paris")
#: The time that best says "when this happened", per kind, in order of preference.
MAIN_TIME = {
    "appointments": ("start",),
    "queue_tickets": ("served_start", "called_at", "issued_at"),
    "care_acts": ("start", "planned_start", "recorded_at"),
}
DAY_START, DAY_END = 8 * 60 + 30, 17 * 60 + 30
NIGHT = (22, 6)
HOME_CELL_DEG = 0.01


def groups(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """(tool, rows of that tool), sorted by tool."""
    tools = sorted({t for t in table.column("tool").to_pylist() if t is not None})
    return [(tool, table.filter(pc.equal(table.column("tool"), pa.scalar(tool, pa.string())))) for tool in tools]


def main_time(kind: str, table: pa.Table) -> str | None:
    names = MAIN_TIME.get(kind, ("time",))
    for name in names:
        if name in table.column_names and table.column(name).null_count < table.num_rows:
            return name
    return None


def local_times(table: pa.Table, column: str | None) -> list[datetime]:
    if column is None:
        return []
    return sorted(v.astimezone(LOCAL) for v in table.column(column).to_pylist() if v is not None)


def resolution(times: list[datetime]) -> str:
    """'subsecond', 'seconds' or 'minutes': the finest unit the tool writes down."""
    if any(t.microsecond for t in times):
        return "subsecond"
    if any(t.second for t in times):
        return "seconds"
    return "minutes"


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def outside_hours(times: list[datetime]) -> int:
    """Records outside Monday–Friday 08:30–17:30 (the default declared hours)."""
    return sum(1 for t in times if t.weekday() >= 5 or not DAY_START <= t.hour * 60 + t.minute < DAY_END)


def weekday_hour(times: list[datetime]) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for t in times:
        grid[t.weekday()][t.hour] += 1
    return grid


def busiest_day(times: list[datetime]) -> str | None:
    if not times:
        return None
    counts = Counter(t.date().isoformat() for t in times)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def sampling_interval_s(times: list[datetime]) -> float | None:
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return median([g for g in gaps if 0 < g < 6 * 3600])


def appointment_pauses(table: pa.Table) -> list[float]:
    """Minutes between the end of one appointment and the start of the next, the same day."""
    if "end" not in table.column_names:
        return []
    pairs = sorted(
        (s.astimezone(LOCAL), e.astimezone(LOCAL))
        for s, e in zip(table.column("start").to_pylist(), table.column("end").to_pylist(), strict=True)
        if s is not None and e is not None
    )
    out = []
    for (_, end), (start, _) in itertools.pairwise(pairs):
        if start.date() == end.date() and start > end:
            out.append((start - end).total_seconds() / 60)
    return out


def durations_min(table: pa.Table, start: str, end: str) -> list[float]:
    if start not in table.column_names or end not in table.column_names:
        return []
    return [
        (e - s).total_seconds() / 60
        for s, e in zip(table.column(start).to_pylist(), table.column(end).to_pylist(), strict=True)
        if s is not None and e is not None and e >= s
    ]


def home_cell(table: pa.Table) -> tuple[float, float, int] | None:
    """The ~1 km cell where most night-time fixes fall (22:00–06:00): where the employer can guess you live."""
    cells: Counter[tuple[float, float]] = Counter()
    for t, lat, lon in zip(table.column("time").to_pylist(), table.column("lat").to_pylist(),
                           table.column("lon").to_pylist(), strict=True):
        if t is None or lat is None or lon is None:
            continue
        hour = t.astimezone(LOCAL).hour
        if hour >= NIGHT[0] or hour < NIGHT[1]:
            cells[(round(lat / HOME_CELL_DEG) * HOME_CELL_DEG, round(lon / HOME_CELL_DEG) * HOME_CELL_DEG)] += 1
    if not cells:
        return None
    (lat, lon), n = sorted(cells.items(), key=lambda item: (-item[1], item[0]))[0]
    return round(lat, 2), round(lon, 2), n


def non_null_fields(table: pa.Table) -> list[str]:
    return [name for name in table.column_names if table.column(name).null_count < table.num_rows]


def when(value: datetime, lang: str) -> str:
    """A time as people write it, in Paris time, per locale (see ``auditor.i18n.format_moment``)."""
    return format_moment(value.astimezone(LOCAL), lang)


def day_text(iso_day: str, lang: str) -> str:
    """2026-03-31 → 31 mars 2026 / 31 Mar 2026."""
    return format_day(date.fromisoformat(iso_day), lang)


def plain(value: Any, lang: str = "fr") -> Any:
    """A displayable value: times in local wall-clock form, floats rounded."""
    if isinstance(value, datetime):
        return when(value, lang)
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e15 else round(value, 6)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
