"""The per-agent metrics ``activity_counts``, ``sampling_interval``, ``gaps``, ``time_windows``,
``timestamp_resolution`` and ``retention`` in numpy: their SQL files are the definition, and these return exactly
DuckDB's result for them, in a third of its time or less.

Each reads the completed ``events`` (``sequence.add_previous``). DuckDB hashes three text keys per row and, for
the quantiles, keeps every interval of a group; here the keys become one small integer per row (folded from
the dictionary indices the completed view already has) and every per-group statistic comes from one in-place
``np.sort`` of an integer key (vectorised sorts of plain integers are the fastest thing numpy does) or from
sums indexed by the group's code. Rows are read in blocks of ``BLOCK_ROWS``: when every step made a temporary
of the whole table, glibc mapped each one afresh and the kernel zeroed it page by page (``io/allocator.py``),
which cost as much as the arithmetic; a block's temporaries are reused.

Rows come out in the order of the groups' dictionary indices (kind, then tool, then agent; a null agent after
the others), not alphabetically: callers sort the results.

Exactness, checked against DuckDB by ``tests/unit/test_metric_per_agent.py``: counts, sums of counts, minima and
maxima are exact; means are the sum over the count in double, like DuckDB; quantiles use DuckDB's interpolation
bit for bit (its compiled ``lo * (1 - d) + hi * d`` is a fused multiply-add, emulated here exactly); sums of
gap minutes add each group's gaps in row order, which is DuckDB's order on one thread (the tests allow 1e-9
relative: with several threads DuckDB's own sums vary in their last bits).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KEYS = ("kind", "tool", "agent")
#: The places in the declared schedule an event can have (``events.slot``).
SLOTS = ("shift", "off_hours", "break", "rest_day", "holiday")
MICROS_PER_HOUR = 3_600_000_000
MICROS_PER_DAY = 86_400_000_000
#: Rows per block: 512 KiB of int64, the size of the completed views' chunks (``runner.SCAN_BATCH_ROWS``). A
#: block's temporaries come from the heap, glibc's mmap threshold being raised while an audit runs
#: (``io/allocator.py``); blocks of 8,192 rows (under its default threshold) paid Python's per-block work eight
#: times over: the six metrics 130 -> 94 ms on a bucket of 470 k fixes, 80 -> 65 ms on 312 k Squid lines.
BLOCK_ROWS = 1 << 16
#: (group, day) keys past this many are numbered densely first, so that with an interval's microseconds (37 bits
#: for a day) they still fit in one int64 to sort.
DENSE_KEYS = 1 << 24
#: Group codes range over the product of the dictionary sizes: up to this many (or 4 per row), flags and sums are
#: indexed by them; past it, the codes present are numbered first (a sort).
CODE_RANGE = 1 << 20
CODES_PER_ROW = 4
#: Keys counted one by one (``_runs``) up to this range (8 MiB of counts), or 4 per row: past it, sorted.
COUNTED_KEYS = 1 << 20
#: (group, distinct value) pairs counted (``_Counted``) up to this many, or one per value: past it, sorted.
COUNTED_VALUES = 1 << 16
#: Bits of the integers sorted at once: (group, value) pairs wider than this are lexsorted instead.
PACK_BITS = 62


def activity_counts(events: pa.Table) -> pa.Table:
    """Acts per (local) hour and per day of each agent: ``activity_counts.sql``. The SQL joins the hourly and
    daily figures on (kind, tool, agent), which drops the rows of a null agent: so does this."""
    table, groups = _Grouping.of(events, ("local_t", "local_day"))
    hour_low, hour_span = _extent(table.column("local_t"), MICROS_PER_HOUR)
    day_low, day_span = _extent(table.column("local_day"), 1)
    if groups.size * hour_span > _counted_keys(table.num_rows):  # only the groups present, to count their hours
        table, groups = _Grouping.of(events, ("local_t", "local_day"), dense=True)
    by_hour = np.empty(table.num_rows, dtype=np.int64)
    by_day = np.empty(table.num_rows, dtype=np.int64)
    for start, batch in _blocks(table):
        code = groups.codes(batch)
        stop = start + batch.num_rows
        hours = _view(batch.column("local_t")) // MICROS_PER_HOUR
        np.multiply(code, hour_span, out=by_hour[start:stop])
        by_hour[start:stop] += hours - hour_low
        np.multiply(code, day_span, out=by_day[start:stop])
        by_day[start:stop] += _view(batch.column("local_day")) - day_low
    present, n_records, active_hours, max_per_hour = _runs(by_hour, hour_span, groups.size)
    del by_hour
    _, _, active_days, max_per_day = _runs(by_day, day_span, groups.size)
    kept = ~groups.null_agent(present)
    return pa.table({
        **groups.keys(present[kept]),
        "n_records": pa.array(n_records[kept], pa.int64()).cast(pa.decimal128(38, 0)),
        "active_hours": pa.array(active_hours[kept], pa.int64()),
        "mean_per_hour": pa.array(n_records[kept] / active_hours[kept], pa.float64()),
        "max_per_hour": pa.array(max_per_hour[kept], pa.int64()),
        "active_days": pa.array(active_days[kept], pa.int64()),
        "mean_per_day": pa.array(n_records[kept] / active_days[kept], pa.float64()),
        "max_per_day": pa.array(max_per_day[kept], pa.int64()),
    })


def sampling_interval(events: pa.Table) -> pa.Table:
    """Median and 10th percentile of each agent's intervals, and its tightest daily median:
    ``sampling_interval.sql``. Only agents with an interval; a null agent is dropped by the SQL's join."""
    table, groups = _Grouping.of(events, ("interval_s", "local_day"))
    day_low, day_span = _extent(table.column("local_day"), 1)
    if groups.size * day_span > DENSE_KEYS:
        table, groups = _Grouping.of(events, ("interval_s", "local_day"), dense=True)
    count = table.num_rows - table.column("interval_s").null_count
    ids = np.empty(count, dtype=np.int64)
    values = np.empty(count, dtype=np.float64)
    at = 0
    for _, batch in _blocks(table):
        code = groups.codes(batch)
        interval = batch.column("interval_s")
        has = _valid(interval)
        taken = int(np.count_nonzero(has))
        code = code[has]
        code *= day_span
        code += _view(batch.column("local_day"))[has]
        code -= day_low
        ids[at:at + taken] = code  # (group, day) keys for now
        values[at:at + taken] = _view(interval)[has]
        at += taken
    ranked = _Ranked.of(values)
    del values
    day_key, day_starts, day_counts = _segments(ranked.sort(ids, groups.size * day_span))
    day_median = _quantile(ranked.values, day_starts, day_counts, 0.5)
    day_group = day_key // day_span
    first_day = _starts(day_group)
    agent_days = np.diff(np.append(first_day, len(day_group)))
    min_daily = np.minimum.reduceat(day_median, first_day) if len(first_day) else day_median[:0]

    ids //= day_span  # back to groups
    counted = _Counted.of(ids, ranked, groups.size)
    if counted is None:
        present, starts, counts = _segments(ranked.sort(ids, groups.size))
        ordered: np.ndarray | _Counted = ranked.values
    else:
        present, starts, counts, ordered = counted.groups, counted.starts, counted.counts, counted
    del ids
    median = _quantile(ordered, starts, counts, 0.5)
    p10 = _quantile(ordered, starts, counts, 0.1)

    kept = ~groups.null_agent(present)
    return pa.table({
        **groups.keys(present[kept]),
        "n_intervals": pa.array(counts[kept], pa.int64()),
        "agent_days": pa.array(agent_days[kept], pa.int64()),
        "median_interval_s": pa.array(median[kept], pa.float64()),
        "p10_interval_s": pa.array(p10[kept], pa.float64()),
        "min_daily_median_s": pa.array(min_daily[kept], pa.float64()),
    })


def gaps(events: pa.Table, policy_breaks: pa.Table) -> pa.Table:
    """Pauses between two acts in shift the same day, in bands of 1-10 and 10+ minutes: ``gaps.sql``. Every
    group of ``events`` has a row (a left join); the bands of a null agent are 0, since the SQL's join on the
    keys does not match a null."""
    table, groups = _Grouping.of(events, ("t", "interval_s", "slot", "prev_slot", "prev_busy_until", "grp",
                                          "isodow", "minute", "prev_busy_minute"))
    breaks = _Breaks.of(policy_breaks, groups.texts["grp"])
    shift = {name: groups.texts[name].equals("shift") for name in ("slot", "prev_slot")}
    seen = np.zeros(groups.size, dtype=bool)
    agent_days = np.zeros(groups.size, dtype=np.int64)
    latest = np.full(groups.size, np.iinfo(np.int64).min, dtype=np.int64)
    earliest = np.full(groups.size, np.iinfo(np.int64).max, dtype=np.int64)
    n_short = np.zeros(groups.size, dtype=np.int64)
    n_long = np.zeros(groups.size, dtype=np.int64)
    minutes_short = np.zeros(groups.size, dtype=np.float64)
    minutes_long = np.zeros(groups.size, dtype=np.float64)
    for _, batch in _blocks(table):
        code = groups.codes(batch)
        seen[code] = True
        np.add.at(agent_days, code[~_valid(batch.column("interval_s"))], 1)
        t = _view(batch.column("t"))
        np.maximum.at(latest, code, t)
        np.minimum.at(earliest, code, t)
        in_shift = shift["slot"][groups.texts["slot"].codes(batch.column("slot"))]
        in_shift &= shift["prev_slot"][groups.texts["prev_slot"].codes(batch.column("prev_slot"))]
        in_shift &= _valid(batch.column("prev_busy_until"))
        rows = np.flatnonzero(in_shift)
        gap = _epoch_seconds(t[rows] - _view(batch.column("prev_busy_until"))[rows])
        gap /= 60.0
        keep = gap >= 1
        rows, gap = rows[keep], gap[keep]
        keep = ~breaks.between(batch, rows, groups.texts["grp"])
        rows, gap = rows[keep], gap[keep]
        short = gap < 10
        banded = code[rows]
        np.add.at(n_short, banded[short], 1)
        np.add.at(minutes_short, banded[short], gap[short])
        np.add.at(n_long, banded[~short], 1)
        np.add.at(minutes_long, banded[~short], gap[~short])
    present = np.flatnonzero(seen)
    null_agent = groups.null_agent(present)
    span_days = _epoch_seconds(latest[present] - earliest[present]) / 86400.0
    bands = [np.where(null_agent, 0, banded[present]) for banded in (n_short, n_long, minutes_short, minutes_long)]
    return pa.table({
        **groups.keys(present),
        "agent_days": pa.array(agent_days[present], pa.int64()),
        "span_days": pa.array(span_days, pa.float64()),
        "n_gaps_1_10": pa.array(bands[0], pa.int64()),
        "n_gaps_10_plus": pa.array(bands[1], pa.int64()),
        "minutes_gaps_1_10": pa.array(bands[2], pa.float64()),
        "minutes_gaps_10_plus": pa.array(bands[3], pa.float64()),
    })


def time_windows(events: pa.Table) -> pa.Table:
    """Each agent's records by place in the declared schedule, counted and as shares: ``time_windows.sql``
    (a null agent is a group of its own)."""
    table, groups = _Grouping.of(events, ("slot", "is_weekend", "in_delegation"))
    slot = groups.texts["slot"]
    flags = {name: slot.equals(name) for name in SLOTS}
    counts = {name: np.zeros(groups.size, dtype=np.int64) for name in ("n", *SLOTS, "weekend", "delegation")}
    for _, batch in _blocks(table):
        code = groups.codes(batch)
        counts["n"] += np.bincount(code, minlength=groups.size)
        codes = slot.codes(batch.column("slot"))
        for name in SLOTS:
            counts[name] += np.bincount(code[flags[name][codes]], minlength=groups.size)
        for name, column in (("weekend", "is_weekend"), ("delegation", "in_delegation")):
            counts[name] += np.bincount(code[_true(batch.column(column))], minlength=groups.size)
    present = np.flatnonzero(counts["n"])
    n, got = counts["n"][present], {name: values[present] for name, values in counts.items()}
    outside = got["off_hours"] + got["rest_day"] + got["holiday"]
    return pa.table({
        **groups.keys(present),
        "n_records": pa.array(n, pa.int64()),
        "n_in_shift": pa.array(got["shift"], pa.int64()),
        "n_off_hours": pa.array(got["off_hours"], pa.int64()),
        "n_in_break": pa.array(got["break"], pa.int64()),
        "n_rest_day": pa.array(got["rest_day"], pa.int64()),
        "n_holiday": pa.array(got["holiday"], pa.int64()),
        "n_weekend": pa.array(got["weekend"], pa.int64()),
        "n_delegation": pa.array(got["delegation"], pa.int64()),
        "n_outside_work": pa.array(outside, pa.int64()),
        "share_outside_work": pa.array(outside / n, pa.float64()),
        "share_in_break": pa.array(got["break"] / n, pa.float64()),
        "share_weekend": pa.array(got["weekend"] / n, pa.float64()),
        "share_holiday": pa.array(got["holiday"] / n, pa.float64()),
    })


def timestamp_resolution(events: pa.Table) -> pa.Table:
    """How finely each agent's times are recorded (minutes, seconds, milliseconds, microseconds) and over how
    many days: ``timestamp_resolution.sql`` (a null agent is a group of its own)."""
    table, groups = _Grouping.of(events, ("t",))
    span = _Span(groups.size)
    with_seconds = np.zeros(groups.size, dtype=np.int64)
    subsecond = np.zeros(groups.size, dtype=np.int64)
    sub_ms = np.zeros(groups.size, dtype=np.int64)
    for _, batch in _blocks(table):
        code = groups.codes(batch)
        t = span.add(code, batch)
        with_seconds += np.bincount(code[t % 60_000_000 != 0], minlength=groups.size)
        subsecond += np.bincount(code[t % 1_000_000 != 0], minlength=groups.size)
        sub_ms += np.bincount(code[t % 1000 != 0], minlength=groups.size)
    present = np.flatnonzero(span.n)
    n = span.n[present]
    resolution = np.select([sub_ms[present] > 0, subsecond[present] > 0, with_seconds[present] > 0],
                           [0.000001, 0.001, 1.0], 60.0)
    return pa.table({
        **groups.keys(present),
        "n_records": pa.array(n, pa.int64()),
        "share_with_seconds": pa.array(with_seconds[present] / n, pa.float64()),
        "share_subsecond": pa.array(subsecond[present] / n, pa.float64()),
        "resolution_s": pa.array(resolution, pa.float64()),
        "span_days": pa.array(span.days(present), pa.float64()),
    })


def retention(events: pa.Table, retention_caps: pa.Table, policy_retention: pa.Table) -> pa.Table:
    """Each agent's records, first and last time, span and active days, against the kind's retention cap and
    declared retention: ``retention.sql`` (a null agent is a group of its own). Both tables have one row per kind
    (they are made from mappings), so the SQL's left joins add columns, not rows."""
    table, groups = _Grouping.of(events, ("t", "interval_s"))
    span = _Span(groups.size)
    first_records = np.zeros(groups.size, dtype=np.int64)  # an agent's first record of a day: no interval
    for _, batch in _blocks(table):
        code = groups.codes(batch)
        span.add(code, batch)
        first_records += np.bincount(code[~_valid(batch.column("interval_s"))], minlength=groups.size)
    present = np.flatnonzero(span.n)
    keys = groups.keys(present)
    span_days = span.days(present)
    time_type = table.schema.field("t").type
    columns = {**keys, "n_records": pa.array(span.n[present], pa.int64()),
               "first_time": pa.array(span.earliest[present], pa.int64()).cast(time_type),
               "last_time": pa.array(span.latest[present], pa.int64()).cast(time_type),
               "span_days": pa.array(span_days, pa.float64()),
               "active_days": pa.array(first_records[present], pa.int64())}
    kinds = keys["kind"].to_pylist()
    looked_up = {}
    for name, by_kind, value in (("cap_days", retention_caps, "cap_days"), ("declared_days", policy_retention, "days")):
        days = dict(zip(by_kind.column("kind").to_pylist(), by_kind.column(value).to_pylist(), strict=True))
        if len(days) != by_kind.num_rows:
            raise ValueError(f"{name}: one row per kind expected")  # the SQL would count rows once per match
        looked_up[name] = pa.array([days.get(kind) for kind in kinds], by_kind.schema.field(value).type)
    columns.update(looked_up)
    for name, over in (("cap_days", "span_over_cap"), ("declared_days", "span_over_declared")):
        divisor = looked_up[name].cast(pa.float64()).to_numpy(zero_copy_only=False)
        usable = np.isfinite(divisor) & (divisor != 0)  # nullif(days, 0); a null is NaN here
        columns[over] = pa.array(np.divide(span_days, divisor, where=usable, out=np.zeros_like(span_days)),
                                 pa.float64(), mask=~usable)
    return pa.table(columns)


class _Span:
    """Per group: its rows, and its earliest and latest time (``t``), added block by block."""

    def __init__(self, size: int) -> None:
        self.n = np.zeros(size, dtype=np.int64)
        self.earliest = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        self.latest = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)

    def add(self, code: np.ndarray, batch: pa.RecordBatch) -> np.ndarray:
        """Count a block's rows (``code``: their groups); its times, in microseconds."""
        t = _view(batch.column("t"))
        self.n += np.bincount(code, minlength=len(self.n))
        np.maximum.at(self.latest, code, t)
        np.minimum.at(self.earliest, code, t)
        return t

    def days(self, groups: np.ndarray) -> np.ndarray:
        """``epoch(max(t) - min(t)) / 86400.0`` of ``groups``, as DuckDB computes it."""
        days: np.ndarray = _epoch_seconds(self.latest[groups] - self.earliest[groups]) / 86400.0
        return days


@dataclass(frozen=True)
class _Breaks:
    """The declared breaks as sorted integers ``(group code, weekday, start)``, for the SQL's correlated
    ``NOT EXISTS``: a break of the row's group and weekday starting in [prev_busy_minute, minute).

    Break starts are integers, so ``start >= x`` is ``start >= ceil(x)`` and ``start < m`` is
    ``start < ceil(m)``; with the bounds clamped to the starts' range, each (group, weekday) is a block of
    integers where a row's window is one contiguous range: two binary searches."""

    blocks: np.ndarray
    day_low: int
    days: int
    start_low: int
    width: int

    @classmethod
    def of(cls, policy_breaks: pa.Table, grp: _Dictionary) -> _Breaks:
        breaks = policy_breaks.filter(pc.and_(pc.and_(pc.is_valid(policy_breaks.column("grp")),
                                                      pc.is_valid(policy_breaks.column("isodow"))),
                                              pc.is_valid(policy_breaks.column("start_min"))))
        position = pc.index_in(breaks.column("grp").combine_chunks().cast(pa.string()),
                               value_set=grp.values.cast(pa.string()))
        breaks = breaks.filter(pc.is_valid(position))
        if breaks.num_rows == 0:
            return cls(np.zeros(0, dtype=np.int64), 0, 1, 0, 1)
        break_grp = np.asarray(position.drop_null().to_numpy(), dtype=np.int64)
        day = np.asarray(breaks.column("isodow").to_numpy(), dtype=np.int64)
        start = np.asarray(breaks.column("start_min").to_numpy(), dtype=np.int64)
        day_low, days = int(day.min()), int(day.max() - day.min()) + 1
        start_low, width = int(start.min()), int(start.max() - start.min()) + 2
        blocks = np.sort((break_grp * days + (day - day_low)) * width + (start - start_low))
        return cls(blocks, day_low, days, start_low, width)

    def between(self, batch: pa.RecordBatch, rows: np.ndarray, grp: _Dictionary) -> np.ndarray:
        """For ``rows`` of ``batch``: whether a break starts between the previous act and this one."""
        if len(self.blocks) == 0 or len(rows) == 0:
            return np.zeros(len(rows), dtype=bool)
        row_grp = grp.codes(batch.column("grp"))[rows].astype(np.int64)
        isodow = batch.column("isodow")
        row_day = _view(isodow)[rows].astype(np.int64) - self.day_low
        lower, lower_ok = self._offsets(batch.column("prev_busy_minute"), rows)
        upper, upper_ok = self._offsets(batch.column("minute"), rows)
        matchable = (row_grp < grp.null) & (row_day >= 0) & (row_day < self.days) & lower_ok & upper_ok
        if isodow.null_count:
            matchable &= _valid(isodow)[rows]
        block = (row_grp * self.days + row_day) * self.width
        inside: np.ndarray = np.searchsorted(self.blocks, block + lower) < np.searchsorted(self.blocks, block + upper)
        inside &= matchable
        return inside

    def _offsets(self, column: pa.Array[Any], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ceil(value) - start_low`` for ``rows``, clamped to [0, width - 1]; and whether the value compares at
        all (not null, not NaN)."""
        values = _view(column)[rows].astype(np.float64, copy=False)
        ok = ~np.isnan(values)
        if column.null_count:
            ok &= _valid(column)[rows]
        offsets = np.clip(np.ceil(np.where(ok, values, self.start_low)) - self.start_low, 0, self.width - 1)
        return offsets.astype(np.int64), ok


def _runs(keys: np.ndarray, span: int, groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For ``group * span + key`` per row (``group`` in ``range(groups)``; sorted here, in place, when counting
    them would take more memory than the rows): the groups, and per group its rows, its distinct keys (hours,
    days) and the most rows with one key. Counted, not sorted, where the keys span a small range: a count per key
    is 3 ms for 1.25 M rows, a sort 65 ms."""
    if groups * span <= _counted_keys(len(keys)):
        counts = np.bincount(keys, minlength=groups * span).reshape(groups, span)
        rows = counts.sum(axis=1)
        present = np.flatnonzero(rows)
        counts = counts[present]
        return present, rows[present], np.count_nonzero(counts, axis=1), counts.max(axis=1, initial=0)
    keys.sort()
    starts = _starts(keys)
    lengths = np.diff(np.append(starts, len(keys)))
    run_group = keys[starts] // span
    first = _starts(run_group)
    if len(first) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return (run_group[first], np.add.reduceat(lengths, first), np.diff(np.append(first, len(run_group))),
            np.maximum.reduceat(lengths, first))


def _counted_keys(rows: int) -> int:
    """The widest range of keys ``_runs`` counts one by one for ``rows`` rows (sorted past it)."""
    return max(COUNTED_KEYS, CODES_PER_ROW * rows)


def _extent(column: pa.ChunkedArray[Any], unit: int) -> tuple[int, int]:
    """The lowest value of a column (never null) in ``unit`` (floored), and how many units it spans."""
    if len(column) == 0:
        return 0, 1
    extremes = pc.min_max(column.cast(_integer_type(column.type)))
    low, high = int(extremes["min"].as_py()), int(extremes["max"].as_py())
    return low // unit, high // unit - low // unit + 1


def _integer_type(kind: pa.DataType) -> pa.DataType:
    """The integers a date or time is counted in."""
    return pa.int32() if pa.types.is_date32(kind) else pa.int64() if pa.types.is_timestamp(kind) else kind


@dataclass
class _Ranked:
    """Doubles as integers that sort like them, so that sorting by (group, value) is one ``np.sort`` of
    ``group << bits | integer`` (a lexsort is seven times slower, an argsort four). Intervals are whole
    microseconds (differences of times), so their microsecond counts do (exactly: checked); any other values
    are ranked by an argsort. ``values`` holds the last sort's values in order."""

    low: np.ndarray  # per row: microseconds, or (with ``ordered``) the row's place in ``ordered``
    ordered: np.ndarray | None  # all values sorted, when ranked
    order: np.ndarray | None  # the rows in that order
    values: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Ranked:
        with np.errstate(invalid="ignore"):
            micros = values * 1e6
            np.rint(micros, out=micros)
            whole = bool(np.all((micros >= 0) & (micros < 2.0**52)))
        if whole:
            low = micros.astype(np.int64)
            np.divide(low, 1e6, out=micros)
            if np.array_equal(micros.view(np.int64), values.view(np.int64)):
                return cls(low, None, None, values[:0])
        order = np.argsort(values)
        return cls(np.arange(len(values), dtype=np.int64), values[order], order, values[:0])

    def sort(self, major: np.ndarray, major_count: int) -> np.ndarray:
        """``major`` sorted with the values (kept in ``self.values``)."""
        if self.order is not None:
            major = major[self.order]
        bits = int(self.low.max(initial=0)).bit_length()
        if max(major_count - 1, 0).bit_length() + bits <= PACK_BITS:
            packed = major << bits
            packed |= self.low
            packed.sort()
            major = packed >> bits
            packed &= (1 << bits) - 1
            low = packed
        else:
            by = np.lexsort((self.low, major))
            major, low = major[by], self.low[by]
        self.values = low / 1e6 if self.ordered is None else self.ordered[low]
        return major


@dataclass(frozen=True)
class _Counted:
    """Values sorted by (group, value) without a sort, where they are whole seconds: a count per (group, distinct
    value), both numbered densely, and the value at any place of the sorted sequence found in the running total
    of those counts. The intervals of a bucket of 470 k fixes (2,237 distinct seconds): 3.6 ms instead of a 22 ms
    sort."""

    groups: np.ndarray  # the groups present, ascending
    starts: np.ndarray  # where each group's values start in the sorted sequence
    counts: np.ndarray  # and how many it has
    distinct: np.ndarray  # the distinct values, ascending
    running: np.ndarray  # values up to each (group, distinct value), in that order

    @classmethod
    def of(cls, groups: np.ndarray, ranked: _Ranked, group_count: int) -> _Counted | None:
        """None unless the values are whole seconds and (groups present) x (distinct values) is a small range."""
        if ranked.order is not None or not len(groups):
            return None
        seconds, rest = np.divmod(ranked.low, 1_000_000)
        if rest.any() or int(seconds.max()) >= 1 << 17:  # (a day and a clock change, in seconds)
            return None
        seen = np.bincount(seconds) > 0
        distinct = np.flatnonzero(seen)
        present = np.bincount(groups, minlength=group_count) > 0
        numbers = np.flatnonzero(present)
        width = len(distinct)
        if len(numbers) * width > max(len(groups), COUNTED_VALUES):  # (its counts: 16 bytes a row at most)
            return None
        key = (np.cumsum(present) - 1)[groups] * width
        key += (np.cumsum(seen) - 1)[seconds]
        tally = np.bincount(key, minlength=len(numbers) * width)
        counts = tally.reshape(len(numbers), width).sum(axis=1)
        return cls(numbers, np.cumsum(counts) - counts, counts, distinct.astype(np.float64), np.cumsum(tally))

    def __getitem__(self, places: np.ndarray) -> np.ndarray:
        """The values at ``places`` of the sequence sorted by (group, value)."""
        found: np.ndarray = self.distinct[np.searchsorted(self.running, places, side="right") % len(self.distinct)]
        return found


def _starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of sorted ``keys`` starts."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    changes = np.empty(len(keys), dtype=bool)
    changes[0] = True
    np.not_equal(keys[1:], keys[:-1], out=changes[1:])
    return np.flatnonzero(changes)


def _segments(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of sorted ``keys``, where each run starts and its length."""
    starts = _starts(keys)
    return keys[starts], starts, np.diff(np.append(starts, len(keys)))


def _quantile(ordered: np.ndarray | _Counted, starts: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """DuckDB's ``quantile_cont(x, q)`` of each run of ``ordered`` (sorted within runs): position
    ``(n - 1) * q``, interpolated as DuckDB's compiled ``lo * (1 - d) + hi * d``, a fused multiply-add
    ``fma(lo, 1 - d, hi * d)``."""
    position = (counts - 1).astype(np.float64) * q
    below, above = np.floor(position), np.ceil(position)
    lo = ordered[starts + below.astype(np.int64)]
    hi = ordered[starts + above.astype(np.int64)]
    d = position - below
    if q == 0.5:  # d is 0 or 1/2: both products are exact, so the plain sum rounds once, as the fused one
        interpolated: np.ndarray = lo * (1.0 - d) + hi * d
    else:
        interpolated = _fma(lo, 1.0 - d, hi * d)
    return np.where(below == above, lo, interpolated)


def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` rounded once (numpy has no fused multiply-add): the product's exact error (Dekker), an
    exact sum, and the rest rounded to odd before the last rounding (Boldo and Melquiond, "Emulation of FMA
    and correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008). Exact for finite
    values away from overflow and from subnormals (intervals here are at least a microsecond or 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        high, low = _two_product(a, b)
        top, rest = _two_sum(c, high)
        odd, error = _two_sum(rest, low)
        even = (odd.view(np.int64) & 1) == 0
        towards = np.where(error > 0, np.inf, -np.inf)
        odd = np.where((error != 0) & even, np.nextafter(odd, towards), odd)
        result: np.ndarray = top + odd
    return np.where(np.isfinite(result), result, a * b + c)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaled = 134217729.0 * x  # 2**27 + 1: Veltkamp's split into two halves of 26 bits
    high = scaled - (scaled - x)
    return high, x - high


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = a + b
    b_part = total - a
    return total, (a - (total - b_part)) + (b - b_part)


@dataclass(frozen=True)
class _Dictionary:
    """A dictionary-encoded column's distinct values; its indices become codes (a null is ``len(values)``)."""

    values: pa.Array[Any]
    size: int  # of the chunks' dictionary (its indices' null becomes this)
    remap: np.ndarray | None  # that dictionary's index (or null) to code, when values repeat or are null

    @property
    def null(self) -> int:
        return len(self.values)

    @classmethod
    def of(cls, column: pa.ChunkedArray[Any]) -> _Dictionary:
        chunks = [cast("pa.DictionaryArray[Any, Any]", chunk) for chunk in column.chunks]
        dictionary: pa.Array[Any] = chunks[0].dictionary if chunks else pa.array([], pa.string())
        distinct = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(dictionary))
        values: pa.Array[Any] = distinct.dictionary
        remap = None
        if len(values) != len(dictionary) or dictionary.null_count:
            remap = np.append(_integers(distinct.indices, len(values)), len(values)).astype(np.int64)
        return cls(values, len(dictionary), remap)

    def codes(self, array: pa.Array[Any]) -> np.ndarray:
        """The codes of a block."""
        codes = _integers(cast("pa.DictionaryArray[Any, Any]", array).indices, self.size)
        return codes if self.remap is None else self.remap[codes]

    def equals(self, value: str) -> np.ndarray:
        """Per code (the null code last): whether it is ``value``."""
        matches = cast("pa.BooleanArray", pc.fill_null(pc.equal(self.values.cast(pa.string()), pa.scalar(value)),
                                                       pa.scalar(False)))
        return np.append(np.asarray(matches.to_numpy(zero_copy_only=False), dtype=bool), False)


@dataclass(frozen=True)
class _Grouping:
    """(kind, tool, agent) as one integer per row: the three codes folded, ordered like them. Their range, the
    product of the dictionary sizes, is usually small: sums and flags indexed by it replace a hash table. Past
    ``CODE_RANGE`` (or when asked, ``dense``), the codes present are numbered (one more pass)."""

    texts: dict[str, _Dictionary]
    sizes: tuple[int, ...]
    numbers: np.ndarray | None  # folded code to group number, when numbered
    distinct: np.ndarray | None  # the folded code of each group number, when numbered

    @cached_property
    def size(self) -> int:
        """How many codes there can be (asked for each block: kept)."""
        return math.prod(self.sizes) if self.distinct is None else len(self.distinct)

    @classmethod
    def of(cls, events: pa.Table, names: tuple[str, ...], *, dense: bool = False) -> tuple[pa.Table, _Grouping]:
        """``events``' columns ``KEYS + names`` with one dictionary per text column (plain text encoded), and
        the grouping of its rows."""
        columns = {}
        for name in (*KEYS, *names):
            column = events.column(name)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column = pc.dictionary_encode(column)
            columns[name] = column
        table = pa.table(columns).unify_dictionaries()
        texts = {name: _Dictionary.of(table.column(name)) for name in columns
                 if pa.types.is_dictionary(table.column(name).type)}
        sizes = tuple(texts[name].null + 1 for name in KEYS)
        grouping = cls(texts, sizes, None, None)
        small = grouping.size <= max(CODES_PER_ROW * table.num_rows, CODE_RANGE)
        if small and dense:
            seen = np.zeros(grouping.size, dtype=bool)
            for _, batch in _blocks(table):
                seen[grouping.codes(batch)] = True
            grouping = cls(texts, sizes, np.cumsum(seen) - 1, np.flatnonzero(seen))
        elif not small:
            folded = [grouping.codes(batch) for _, batch in _blocks(table)]
            distinct = np.unique(np.concatenate(folded)) if folded else np.zeros(0, dtype=np.int64)
            grouping = cls(texts, sizes, None, distinct)
        return table, grouping

    def codes(self, batch: pa.RecordBatch) -> np.ndarray:
        """The group of each row of a block: its folded code, or number."""
        code = self.texts[KEYS[0]].codes(batch.column(KEYS[0])).astype(np.int64)
        for name, size in zip(KEYS[1:], self.sizes[1:], strict=True):
            code *= size
            code += self.texts[name].codes(batch.column(name))
        if self.numbers is not None:
            numbered: np.ndarray = self.numbers[code]
            return numbered
        if self.distinct is not None:
            searched: np.ndarray = np.searchsorted(self.distinct, code)
            return searched
        return code

    def folded(self, groups: np.ndarray) -> np.ndarray:
        """The folded codes of group numbers (or codes)."""
        return groups if self.distinct is None else self.distinct[groups]

    def null_agent(self, groups: np.ndarray) -> np.ndarray:
        """Whether each group's agent is null (an inner join on the keys drops it)."""
        null: np.ndarray = self.folded(groups) % self.sizes[2] == self.texts["agent"].null
        return null

    def keys(self, groups: np.ndarray) -> dict[str, pa.Array[Any]]:
        """The key columns of ``groups`` as plain text (DuckDB returns text, not dictionaries)."""
        rest = self.folded(groups)
        parts = []
        for size in reversed(self.sizes):
            parts.append(rest % size)
            rest = rest // size
        columns = {}
        for name, codes in zip(KEYS, reversed(parts), strict=True):
            text = self.texts[name]
            null = codes == text.null
            taken = pa.array(np.where(null, 0, codes), pa.int64(), mask=null)
            columns[name] = text.values.take(taken).cast(pa.string())
        return columns


def _blocks(table: pa.Table) -> Iterator[tuple[int, pa.RecordBatch]]:
    """The table in blocks of at most ``BLOCK_ROWS`` rows (zero-copy slices), with their first row number."""
    start = 0
    for batch in table.to_batches(max_chunksize=BLOCK_ROWS):
        yield start, batch
        start += batch.num_rows


def _integers(indices: pa.Array[Any], null: int) -> np.ndarray:
    """An integer array as numpy (a view when it has no null), its nulls as ``null``."""
    if indices.null_count:
        indices = pc.fill_null(indices, pa.scalar(null, indices.type))
    return np.asarray(indices.to_numpy(zero_copy_only=False))


def _epoch_seconds(micros: np.ndarray) -> np.ndarray:
    """DuckDB's ``epoch()`` of a timestamp difference: the interval keeps whole days apart from the
    microseconds (both truncated towards zero), and its epoch is ``days * 86400 + micros / 1e6``."""
    days: np.ndarray = np.abs(micros) // MICROS_PER_DAY
    np.negative(days, out=days, where=micros < 0)
    seconds: np.ndarray = (micros - days * MICROS_PER_DAY) / 1e6
    seconds += days * 86400
    return seconds


def _true(array: pa.Array[Any]) -> np.ndarray:
    """Where a boolean block is true (a null is not)."""
    values = np.asarray(array.to_numpy(zero_copy_only=False))
    return values.astype(bool) if not array.null_count else np.where(_valid(array), values, False).astype(bool)


def _valid(array: pa.Array[Any]) -> np.ndarray:
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _view(array: pa.Array[Any]) -> np.ndarray:
    """A fixed-width block as numpy, a view of Arrow's buffer (read-only; times in microseconds, dates in
    days). Whatever lies under a null is left as it is: callers mask nulls."""
    if pa.types.is_date32(array.type):
        array = array.view(pa.int32())
    elif pa.types.is_timestamp(array.type):
        array = array.view(pa.int64())
    elif not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        array = array.cast(pa.float64())
    dtype = np.dtype(array.type.to_pandas_dtype())
    if len(array) == 0:
        return np.zeros(0, dtype=dtype)
    data = cast("pa.Buffer", array.buffers()[1])
    return np.frombuffer(memoryview(data), dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)
