"""Facts about one agent's rows of one tool: span, precision, what the employer can compute.

Everything here receives tables already filtered to one agent, so no other agent's figure can leak in.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
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
    """(tool, rows of that tool), sorted by tool (a person's rows of one tool, the usual case, are not copied)."""
    tools = sorted(t for t in pc.unique(table.column("tool")).to_pylist() if t is not None)
    if len(tools) == 1 and table.column("tool").null_count == 0:
        return [(tools[0], table)]
    return [(tool, table.filter(pc.equal(table.column("tool"), pa.scalar(tool, pa.string())))) for tool in tools]


def main_time(kind: str, table: pa.Table) -> str | None:
    names = MAIN_TIME.get(kind, ("time",))
    for name in names:
        if name in table.column_names and table.column(name).null_count < table.num_rows:
            return name
    return None


#: (UTC µs, Paris wall-clock µs, has a value) of each row of a time column.
Instants = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]


def instants(column: pa.ChunkedArray[Any] | pa.Array[Any]) -> Instants:
    """(UTC µs, Paris wall-clock µs, has a value) of every row of a time column, in three Arrow calls (what lies
    under a missing value is meaningless: callers keep the rows that have one)."""
    utc = column.cast(pa.timestamp("us", tz="UTC"))
    if isinstance(utc, pa.ChunkedArray):
        utc = utc.combine_chunks()
    compute: Any = pc  # the stubs type local_timestamp for naive times only
    local = compute.local_timestamp(utc.cast(pa.timestamp("us", tz=LOCAL.key)))
    valid = np.ones(len(utc), dtype=bool) if not utc.null_count else \
        np.asarray(utc.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return _int64s(utc), _int64s(local), valid


def earliest(found: Instants, count: int) -> np.ndarray[Any, Any]:
    """The places of the ``count`` first rows of a time column in a stable ascending sort, missing values last (as
    ``pc.sort_indices`` puts them), without sorting the whole column: a person's thousands of fixes for five rows."""
    utc, _, valid = found
    places = np.flatnonzero(valid)
    if len(places) > count:
        places = places[utc[places] <= np.partition(utc[places], count - 1)[count - 1]]
    first = places[np.argsort(utc[places], kind="stable")[:count]]
    if len(first) < count:
        first = np.concatenate([first, np.flatnonzero(~valid)[:count - len(first)]])
    return first


def _int64s(array: pa.Array[Any]) -> np.ndarray[Any, Any]:
    """A timestamp array's microseconds, a view of its buffer."""
    data = array.buffers()[1]
    if data is None or not len(array):
        return np.zeros(len(array), dtype=np.int64)
    return np.frombuffer(memoryview(data), dtype=np.int64, count=len(array), offset=array.offset * 8)


#: Microseconds in a minute, an hour and a day.
MINUTE_US, HOUR_US, DAY_US = 60_000_000, 3_600_000_000, 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


class Moments:
    """One time column's values as numbers: its values as a sorted list of Paris datetimes, without building one
    object per row (a person's GPS fixes are thousands; ``tests/report/test_facts.py`` keeps that list as the
    reference).

    ``local`` holds the Paris wall-clock times in microseconds, sorted as Python sorts those datetimes (all
    in one zone, so Python compares their wall clocks; stable: input order among equal ones), ``utc`` the same
    moments' UTC microseconds in that order. Every figure below is the one the list of datetimes gives.
    """

    def __init__(self, table: pa.Table, column: str | None, found: Instants | None = None) -> None:
        """``found``: ``instants`` of that column, when the caller has them."""
        if column is None:
            self.local = self.utc = np.zeros(0, dtype=np.int64)
            return
        utc, local, valid = found or instants(table.column(column))
        local = local[valid]
        order = np.argsort(local, kind="stable")
        self.local = local[order]
        self.utc = utc[valid][order]

    def __len__(self) -> int:
        return len(self.local)

    def at(self, i: int) -> datetime:
        """The ``i``-th moment (an aware Paris datetime)."""
        return (_EPOCH_UTC + timedelta(microseconds=int(self.utc[i]))).astimezone(LOCAL)

    @cached_property
    def resolution(self) -> str:
        """'subsecond', 'seconds' or 'minutes': the finest unit the tool writes down."""
        if np.any(self.local % 1_000_000):
            return "subsecond"
        if np.any((self.local // 1_000_000) % 60):
            return "seconds"
        return "minutes"

    def _days(self) -> np.ndarray[Any, Any]:
        return self.local // DAY_US

    @cached_property
    def _weekdays_hours_minutes(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(weekday, Monday = 0; minute of the day) of each moment."""
        weekday = (self._days() + 3) % 7  # 1 January 1970 was a Thursday
        return weekday, (self.local % DAY_US) // MINUTE_US

    def outside_hours(self) -> int:
        """Records outside Monday–Friday 08:30–17:30 (the default declared hours)."""
        weekday, minute = self._weekdays_hours_minutes
        return int(np.count_nonzero((weekday >= 5) | (minute < DAY_START) | (minute >= DAY_END)))

    def weekday_hour(self) -> list[list[int]]:
        weekday, minute = self._weekdays_hours_minutes
        grid: list[list[int]] = np.bincount(weekday * 24 + minute // 60, minlength=7 * 24).reshape(7, 24).tolist()
        return grid

    def busiest_day(self) -> str | None:
        """The day (ISO) with the most records, the earliest of equals."""
        if not len(self):
            return None
        days = self._days()  # sorted: counted from the first, over the person's span (np.unique sorted them again)
        busiest = int(days[0]) + int(np.argmax(np.bincount(days - days[0])))
        return (_EPOCH + timedelta(days=busiest)).date().isoformat()

    def on_day(self, iso_day: str) -> list[datetime]:
        """The wall-clock times (naive) of the records of that day, in order."""
        day = (date.fromisoformat(iso_day) - _EPOCH.date()).days
        days = self._days()
        mine = self.local[np.searchsorted(days, day, "left"):np.searchsorted(days, day, "right")]
        return [_EPOCH + timedelta(microseconds=int(x)) for x in mine]

    def sampling_interval_s(self) -> float | None:
        """Median wall-clock step between consecutive records, steps of 0 or 6 hours and more left out."""
        steps = np.diff(self.local) / 1e6
        return median_of(steps[(steps > 0) & (steps < 6 * 3600)])


def median_of(values: np.ndarray[Any, Any]) -> float | None:
    """``statistics.median`` of numbers in any order: the middle one or two put in place by a partial sort
    (a full one cost twice as much for a person's thousands of fixes)."""
    n = len(values)
    if not n:
        return None
    middle = n // 2
    if n % 2:
        value: float = np.partition(values, middle)[middle].item()
        return value
    placed = np.partition(values, (middle - 1, middle))
    return (placed[middle - 1].item() + placed[middle].item()) / 2  # type: ignore[no-any-return]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def column_median(table: pa.Table, name: str) -> float | None:
    """Median of a numeric column's non-missing values."""
    return median_of(pc.drop_null(table.column(name)).to_numpy())


def appointment_pauses(table: pa.Table) -> list[float]:
    """Minutes between the end of one appointment and the start of the next, the same day (wall clock)."""
    if "end" not in table.column_names:
        return []
    (_, start, has_start), (_, end, has_end) = instants(table.column("start")), instants(table.column("end"))
    both = has_start & has_end
    start, end = start[both], end[both]
    order = np.lexsort((end, start))  # sorted by (start, end), as the pairs of datetimes sort
    start, end = start[order], end[order]
    nxt, prev_end = start[1:], end[:-1]
    keep = (nxt // DAY_US == prev_end // DAY_US) & (nxt > prev_end)
    return [float(x) for x in (nxt[keep] - prev_end[keep]) / 1e6 / 60]


def durations_min(table: pa.Table, start: str, end: str) -> list[float]:
    if start not in table.column_names or end not in table.column_names:
        return []
    s, e = utc_pairs(table, start, end)
    keep = e >= s
    return [float(x) for x in (e[keep] - s[keep]) / 1e6 / 60]


def utc_pairs(table: pa.Table, start: str, end: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """UTC microseconds of the rows where both ``start`` and ``end`` are present."""
    (first, _, has_first), (last, _, has_last) = instants(table.column(start)), instants(table.column(end))
    both = has_first & has_last
    return first[both], last[both]


def _cell(degrees: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """round(x / HOME_CELL_DEG) * HOME_CELL_DEG, element-wise (half to even, like Python's round)."""
    cells: np.ndarray[Any, Any] = np.rint(degrees / HOME_CELL_DEG) * HOME_CELL_DEG
    return cells


class Fixes:
    """The fixes with a time and both coordinates, in input order, read once for every figure drawn from them:
    ``utc`` and ``local`` (Paris wall clock) in microseconds, ``lat`` and ``lon`` in degrees."""

    def __init__(self, table: pa.Table, found: Instants | None = None) -> None:
        """``found``: ``instants`` of the ``time`` column, when the caller has them (not changed)."""
        utc, local, valid = found or instants(table.column("time"))
        full = valid.copy()
        lat, lon = (np.asarray(table.column(name).to_numpy(), dtype=np.float64) for name in ("lat", "lon"))
        for name in ("lat", "lon"):
            if table.column(name).null_count:
                full &= np.asarray(table.column(name).is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        self.utc, self.local, self.lat, self.lon = utc[full], local[full], lat[full], lon[full]

    def home_cell(self) -> tuple[float, float, int] | None:
        """The ~1 km cell where most night-time fixes fall (22:00–06:00): where the employer can guess you live."""
        hour = (self.local % DAY_US) // HOUR_US
        night = (hour >= NIGHT[0]) | (hour < NIGHT[1])
        if not np.any(night):
            return None
        cell_lat, cell_lon = _cell(self.lat[night]), _cell(self.lon[night])
        order = np.lexsort((cell_lon, cell_lat))  # by (lat, lon): the first of equal counts wins, as sorted() does
        cell_lat, cell_lon = cell_lat[order], cell_lon[order]
        starts = np.flatnonzero(np.r_[True, (cell_lat[1:] != cell_lat[:-1]) | (cell_lon[1:] != cell_lon[:-1])])
        counts = np.diff(np.r_[starts, len(cell_lat)])
        best = int(np.argmax(counts))
        return round(cell_lat[starts[best]].item(), 2), round(cell_lon[starts[best]].item(), 2), int(counts[best])

    def trail(self, iso_day: str) -> list[tuple[float, float]]:
        """(lat, lon) of the fixes of that (Paris) day, in time order."""
        mine = self.local // DAY_US == (date.fromisoformat(iso_day) - _EPOCH.date()).days
        order = np.argsort(self.utc[mine], kind="stable")
        return list(zip(self.lat[mine][order].tolist(), self.lon[mine][order].tolist(), strict=True))


def count_distinct_texts(table: pa.Table, name: str) -> int:
    """Distinct non-empty values of a text column (each distinct value looked at once)."""
    return sum(1 for value in pc.unique(table.column(name)).to_pylist() if value)


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
