"""The ``linkage`` metric (``linkage.sql``) in numpy: the sources linked to each person, and how much of their
declared working time those sources cover together.

The SQL groups every event twice (person-days, then the person's tools, kinds and identifiers) and joins each
trace to its day's shift segments. Here the person, day, tool, kind and identifier of each event become integer
codes, the groupings are sorts of one folded integer, and the traces meet their segments through a small table
indexed by (group, weekday). The SQL file stays the definition; ``tests/unit/test_metric_coverage.py`` holds the
two equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: A trace covers the minutes this close to it, either side (the SQL's ``minute - 15`` and ``minute + 16``).
REACH_BEFORE, REACH_AFTER = 15, 16

SCHEMA = pa.schema([pa.field(name, kind) for name, kind in (
    ("tool", pa.string()), ("agent", pa.string()), ("n_tools", pa.int64()), ("n_kinds", pa.int64()),
    ("tools", pa.list_(pa.string())), ("identifiers", pa.list_(pa.string())), ("person_days", pa.int64()),
    ("shift_minutes", pa.int64()), ("covered_minutes", pa.int64()), ("coverage_share", pa.float64()))])


def linkage(events: pa.Table, marks: pa.Table, shift_segments: pa.Table, policy_holidays: pa.Table) -> pa.Table:
    """One row per person of ``events`` (a null person too): ``linkage.sql``."""
    if events.num_rows == 0:
        return SCHEMA.empty_table()
    persons = _Ranked.of(events.column("person"))
    person = persons.codes(events.column("person"))
    day = _days(events.column("local_day"))
    low = int(day.min())
    span = int(day.max()) - low + 1
    person_day, day_of = np.unique(person * span + (day - low), return_inverse=True)
    groups = _Ranked.of(events.column("grp"))
    day_group = np.full(len(person_day), groups.null, dtype=np.int64)
    np.minimum.at(day_group, day_of, groups.codes(events.column("grp")))  # min(grp): no null unless all are
    day_person, day_number = person_day // span, person_day % span + low
    weekday = (day_number + 3) % 7 + 1  # ISO weekday of a day counted from 1970-01-01, a Thursday
    segments = _Segments.of(shift_segments, groups)
    holidays = _days(policy_holidays.column("day").drop_null())
    working = ~np.isin(day_number, holidays) & (day_group < groups.null)
    first, count = segments.of_days(day_group, weekday, working)

    shift = np.zeros(persons.null + 1, dtype=np.int64)
    scheduled = np.zeros(persons.null + 1, dtype=bool)
    np.add.at(shift, day_person, segments.minutes(first, count))
    scheduled[day_person[count > 0]] = True

    covered = np.zeros(persons.null + 1, dtype=np.int64)
    mark_person = persons.codes(marks.column("person"))
    mark_day = _days(marks.column("local_day"))
    keyed = (mark_person < persons.null) & (mark_day >= low) & (mark_day < low + span)
    where = np.searchsorted(person_day, mark_person * span + (mark_day - low))
    where = np.minimum(where, len(person_day) - 1)
    keyed &= person_day[where] == mark_person * span + (mark_day - low)
    rows = np.flatnonzero(keyed & (count[where] > 0))
    if len(rows):
        minute = _integers(marks.column("minute"))[rows]
        previous = marks.column("prev_minute")
        after_previous = np.where(_valid(previous)[rows], _integers(previous, 0)[rows] + REACH_AFTER,
                                  minute - REACH_BEFORE)
        new_start, new_end = np.maximum(minute - REACH_BEFORE, after_previous), minute + REACH_AFTER
        repeat = count[where[rows]]
        pair = np.repeat(first[where[rows]], repeat) + _within(repeat)
        start, end = np.repeat(new_start, repeat), np.repeat(new_end, repeat)
        seg_start, seg_end = segments.start[pair], segments.end[pair]
        overlap = (start < seg_end) & (end > seg_start)
        length = np.minimum(seg_end, end) - np.maximum(seg_start, start)
        np.add.at(covered, np.repeat(mark_person[rows], repeat)[overlap], length[overlap])

    everyone = np.unique(person)
    tools, n_tools = _distinct_lists(person, events.column("tool"), persons.null)
    _, n_kinds = _distinct_lists(person, events.column("kind"), persons.null)
    identifiers, _ = _distinct_lists(person, events.column("agent"), persons.null)
    days_per_person = np.bincount(day_person, minlength=persons.null + 1)
    matched = scheduled[everyone] & (everyone < persons.null)  # the SQL's join on person drops a null one
    shift_minutes = np.where(matched, shift[everyone], 0)
    covered_minutes = np.where(matched, covered[everyone], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = covered_minutes / shift_minutes
    return pa.table({
        "tool": pa.array(["*"] * len(everyone), pa.string()),
        "agent": persons.values_of(everyone),
        "n_tools": pa.array(n_tools[everyone], pa.int64()),
        "n_kinds": pa.array(n_kinds[everyone], pa.int64()),
        "tools": tools.take(pa.array(everyone)),
        "identifiers": identifiers.take(pa.array(everyone)),
        "person_days": pa.array(days_per_person[everyone], pa.int64()),
        "shift_minutes": pa.array(shift_minutes, pa.int64()),
        "covered_minutes": pa.array(covered_minutes, pa.int64()),
        "coverage_share": pa.array(share, pa.float64(), mask=~matched),
    }).cast(SCHEMA)


class _Ranked:
    """A text column's distinct values in sorted order (DuckDB's, bytewise), each value's code its rank; a null
    is ``null`` (``len(values)``), after every value, as SQL sorts it."""

    def __init__(self, values: pa.Array[Any]) -> None:
        self.values = values
        self.null = len(values)

    @classmethod
    def of(cls, column: pa.ChunkedArray[Any]) -> _Ranked:
        plain = column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
        distinct: Any = pc.unique(plain.drop_null().combine_chunks())
        return cls(distinct.sort())

    def codes(self, column: pa.ChunkedArray[Any]) -> np.ndarray:
        plain = column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
        found = pc.index_in(plain, value_set=self.values)
        return np.asarray(found.fill_null(self.null).to_numpy(), dtype=np.int64)

    def values_of(self, codes: np.ndarray) -> pa.Array[Any]:
        null = codes == self.null
        return self.values.take(pa.array(np.where(null, 0, codes), pa.int64(), mask=null))


class _Segments:
    """The declared shift segments, sorted by (group code, weekday): those of a group and weekday are one range."""

    def __init__(self, key: np.ndarray, start: np.ndarray, end: np.ndarray, groups: int) -> None:
        self.start, self.end = start, end
        self.offsets = np.searchsorted(key, np.arange((groups + 1) * 8 + 1))
        self.cumulative = np.concatenate([[0], np.cumsum(end - start)])

    @classmethod
    def of(cls, table: pa.Table, groups: _Ranked) -> _Segments:
        grp = groups.codes(table.column("grp"))
        weekday = _integers(table.column("isodow"), -1)
        usable = (grp < groups.null) & (weekday >= 1) & (weekday <= 7)
        usable &= _valid(table.column("seg_start")) & _valid(table.column("seg_end"))
        key = grp[usable] * 8 + weekday[usable]
        order = np.argsort(key, kind="stable")
        start = _integers(table.column("seg_start"))[usable][order]
        end = _integers(table.column("seg_end"))[usable][order]
        return cls(key[order], start, end, groups.null)

    def of_days(self, group: np.ndarray, weekday: np.ndarray, working: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each day: the first of its segments and how many it has (none on a day that is not worked)."""
        key = np.where(working, group * 8 + weekday, 0)
        first = self.offsets[key]
        count = np.where(working, self.offsets[key + 1] - first, 0)
        return first, count

    def minutes(self, first: np.ndarray, count: np.ndarray) -> np.ndarray:
        """The minutes of each run of ``count`` segments from ``first``."""
        total: np.ndarray = self.cumulative[first + count] - self.cumulative[first]
        return total


def _distinct_lists(person: np.ndarray, column: pa.ChunkedArray[Any], people: int) -> tuple[pa.Array[Any],
                                                                                           np.ndarray]:
    """Per person code: the sorted distinct values of ``column`` among their rows (a null last, as
    ``list(DISTINCT x ORDER BY x)`` keeps it) and how many non-null ones (``count(DISTINCT x)``)."""
    ranked = _Ranked.of(column)
    size = ranked.null + 1
    pairs = np.unique(person * size + ranked.codes(column))
    owner, code = pairs // size, pairs % size
    per_person = np.bincount(owner, minlength=people + 1)
    offsets = np.concatenate([[0], np.cumsum(per_person)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), ranked.values_of(code))
    return lists, np.bincount(owner[code < ranked.null], minlength=people + 1)


def _within(repeat: np.ndarray) -> np.ndarray:
    """0, 1, … within each run of ``np.repeat(…, repeat)``."""
    ends = np.cumsum(repeat)
    within: np.ndarray = np.arange(int(ends[-1])) - np.repeat(ends - repeat, repeat)
    return within


def _days(column: pa.ChunkedArray[Any]) -> np.ndarray:
    """Dates as day numbers (never null where this is used)."""
    return _integers(column.cast(pa.int32()))


def _integers(column: pa.ChunkedArray[Any], fill: int = 0) -> np.ndarray:
    """Integers as numpy, a null as ``fill``."""
    filled: Any = column.fill_null(pa.scalar(fill, column.type)) if column.null_count else column
    return np.asarray(filled.to_numpy(), dtype=np.int64)


def _valid(column: pa.ChunkedArray[Any]) -> np.ndarray:
    return np.asarray(column.is_valid().to_numpy(), dtype=bool)
