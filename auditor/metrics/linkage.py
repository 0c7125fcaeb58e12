"""The ``linkage`` metric in numpy: its SQL file (``linkage.sql``) is the definition, and this returns exactly
DuckDB's result for it (``tests/unit/test_metric_linkage.py``).

The SQL's costly step joins every mark (a person's minute with a trace, one row per event at worst) to the declared
shift segments of its day with a range condition: 54 of its 66 ms for a bucket of 625 k fixes. Here the overlap of
a mark's reach ``[start, end)`` with the segments of its day is ``C(end) - C(start)``, where ``C(x)`` counts the
segment minutes before ``x`` (a difference that holds for each segment, so for their sum, overlapping or not):
a few vector operations per mark. The rest reads only each identifier's first record of a day, as the SQL does.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from auditor.io.buckets import array_identity

#: Minutes a trace covers either side (``reach`` in the SQL: 15 before, the minute itself and 15 after).
BEFORE, AFTER = 15, 16
#: A mark's (person, day) is looked up in a table of every key up to this range (or this many keys per person-day);
#: past it, searched.
DENSE_PERSON_DAYS, KEYS_PER_PERSON_DAY = 1 << 20, 4


def linkage(events: pa.Table, marks: pa.Table, shift_segments: pa.Table, policy_holidays: pa.Table) -> pa.Table:
    """One row per person of ``events``: its sources and identifiers, days, shift minutes and covered minutes."""
    firsts = events.select(["person", "kind", "tool", "agent", "local_day", "grp", "isodow"]).filter(
        pc.is_null(events.column("interval_s")))
    people, person = _encoded(firsts.column("person"))
    day = _days(firsts.column("local_day"))
    low, high = (int(day.min()), int(day.max())) if len(day) else (0, 0)
    span = high - low + 1
    person_day, days_of = np.unique(person * span + (day - low), return_inverse=True)
    pd_person = person_day // span
    pd_day = person_day % span + low
    pd_isodow = np.zeros(len(person_day), dtype=np.int64)
    pd_isodow[days_of] = _integers(firsts.column("isodow"), -1)

    groups, grp = _encoded(firsts.column("grp"), ordered=True)
    pd_grp = np.full(len(person_day), len(groups), dtype=np.int64)  # min(grp): the null code is the largest
    np.minimum.at(pd_grp, days_of, grp)
    segments = _Segments.of(shift_segments, groups)
    pd_segments = segments.index(pd_grp, pd_isodow)
    pd_segments[np.isin(pd_day, _days(policy_holidays.column("day")))] = -1
    pd_segments[pd_person == len(people)] = -1  # a null person: no join matches it

    persons = len(people) + 1
    shift = np.bincount(pd_person, weights=segments.total[pd_segments], minlength=persons).astype(np.int64)
    covered = _covered(marks, people, person_day, span, low, segments, pd_segments, persons)

    present = np.flatnonzero(np.bincount(person, minlength=persons))
    n_kinds, _ = _distinct(person, firsts.column("kind"), persons, "kinds")
    n_tools, tools = _distinct(person, firsts.column("tool"), persons, "tools")
    _, identifiers = _distinct(person, firsts.column("agent"), persons, "identifiers")
    share = np.divide(covered, shift, out=np.zeros(persons), where=shift > 0)  # (segments are never empty)
    return pa.table({
        "tool": pa.array(["*"] * len(present), pa.string()),
        "agent": _texts(people, present),
        "n_tools": pa.array(n_tools[present], pa.int64()),
        "n_kinds": pa.array(n_kinds[present], pa.int64()),
        "tools": tools.take(present),
        "identifiers": identifiers.take(present),
        "person_days": pa.array(np.bincount(pd_person, minlength=persons)[present], pa.int64()),
        "shift_minutes": pa.array(shift[present], pa.int64()),
        "covered_minutes": pa.array(covered[present], pa.int64()),
        "coverage_share": pa.array(share[present], pa.float64(), mask=shift[present] == 0),
    })


class _Segments:
    """The declared segments of each (group, weekday) that has any, as a table of their minutes before each minute
    ``low + i`` (``before``), one row per (group, weekday) and a last row of zeros (a day without segments)."""

    def __init__(self, keys: np.ndarray, before: np.ndarray, low: int) -> None:
        self.keys, self.table, self.low = keys, before, low

    @property
    def total(self) -> np.ndarray:
        """Each row's minutes in all."""
        total: np.ndarray = self.table[:, -1]
        return total

    @classmethod
    def of(cls, table: pa.Table, groups: pa.Array[Any]) -> _Segments:
        """``shift_segments``' rows whose group is one of ``groups`` (by their codes)."""
        found = pc.index_in(table.column("grp").cast(pa.string()), value_set=groups)
        isodow = _integers(table.column("isodow"), -1)
        start = _integers(table.column("seg_start"), 0)
        end = _integers(table.column("seg_end"), 0)
        kept = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool) & (isodow >= 0) & (end > start)
        keys = _integers(found, 0)[kept] * (1 << 32) + isodow[kept]
        start, end = start[kept], end[kept]
        distinct, row = np.unique(keys, return_inverse=True)
        low, high = (int(start.min()), int(end.max())) if len(start) else (0, 0)
        covering = np.zeros((len(distinct) + 1, high - low + 1), dtype=np.int64)  # segments starting, ending
        np.add.at(covering, (row, start - low), 1)
        np.add.at(covering, (row, end - low), -1)
        np.cumsum(covering, axis=1, out=covering)  # segments covering each minute
        before = np.zeros_like(covering)
        np.cumsum(covering[:, :-1], axis=1, out=before[:, 1:])
        return cls(distinct, before, low)

    def index(self, grp: np.ndarray, isodow: np.ndarray) -> np.ndarray:
        """The row of each (group code, weekday), or -1."""
        return np.where(isodow >= 0, _found(self.keys, grp * (1 << 32) + isodow), -1)

    def before(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Segment minutes before minute ``x`` on each row's segments (each segment's ``clip(x - start, 0,
        length)``, summed)."""
        width = self.table.shape[1]
        at = x - self.low
        np.clip(at, 0, width - 1, out=at)
        at += rows * width
        found: np.ndarray = self.table.ravel()[at]
        return found


def _covered(marks: pa.Table, people: pa.Array[Any], person_day: np.ndarray, span: int, low: int,
             segments: _Segments, pd_segments: np.ndarray, persons: int) -> np.ndarray:
    """Each person's shift minutes within reach of a mark (``covered_totals``), a batch of marks at a time."""
    dense = persons * span <= max(DENSE_PERSON_DAYS, KEYS_PER_PERSON_DAY * len(person_day))
    if dense:  # each (person, day) key's segments row, looked up directly
        lookup = np.full(persons * span, -1, dtype=np.int64)
        lookup[person_day] = pd_segments
    covered = np.zeros(persons, dtype=np.int64)
    codes: dict[tuple[int, ...], np.ndarray] = {}  # each dictionary's codes in ``people`` (its chunks share it)
    for batch in marks.to_batches():
        person = _person_codes(batch.column("person"), people, codes)
        key = person * span + (_days(batch.column("local_day")) - low)
        if dense:
            rows = lookup[np.clip(key, 0, len(lookup) - 1)]
        else:
            at = _found(person_day, key)
            rows = np.where(at >= 0, pd_segments[at], -1)
        kept = rows >= 0  # (a null person's days have no segments: its marks count for no one)
        if not kept.any():
            continue
        minute = _integers(batch.column("minute"), 0)[kept]
        previous = batch.column("prev_minute")
        start = minute - BEFORE
        if previous.null_count < len(previous):
            after_previous = _integers(previous, np.iinfo(np.int64).min // 2)[kept] + AFTER
            np.maximum(start, after_previous, out=start)
        rows = rows[kept]
        reach = segments.before(rows, minute + AFTER) - segments.before(rows, start)
        covered += np.bincount(person[kept], weights=reach, minlength=persons).astype(np.int64)
    return covered


def _found(ordered: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each of ``keys`` is in sorted ``ordered``, or -1."""
    if not len(ordered):
        return np.full(len(keys), -1)
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    found: np.ndarray = np.where(ordered[at] == keys, at, -1)
    return found


def _person_codes(column: pa.Array[Any], people: pa.Array[Any],
                  codes: dict[tuple[int, ...], np.ndarray]) -> np.ndarray:
    """A batch's persons as places in ``people`` (absent or null: ``len(people)``), looked up once per dictionary."""
    if not pa.types.is_dictionary(column.type):
        return _integers(pc.index_in(column, value_set=people), len(people))
    dictionary = cast("pa.DictionaryArray[Any, Any]", column)
    key = array_identity(dictionary.dictionary)
    if key not in codes:
        codes[key] = np.append(_integers(pc.index_in(dictionary.dictionary.cast(pa.string()), value_set=people),
                                         len(people)), len(people))
    found: np.ndarray = codes[key][_integers(dictionary.indices, len(dictionary.dictionary))]
    return found


def _distinct(person: np.ndarray, column: pa.ChunkedArray[Any], persons: int, name: str) -> tuple[np.ndarray,
                                                                                                   pa.Array[Any]]:
    """Per person: how many distinct non-null values, and their list in text order, a null last (DuckDB's
    ``count(DISTINCT x)`` and ``list(DISTINCT x ORDER BY x)``)."""
    values, codes = _encoded(column, ordered=True)
    pairs = np.unique(person * (len(values) + 1) + codes)
    owner, code = pairs // (len(values) + 1), pairs % (len(values) + 1)
    counts = np.bincount(owner[code < len(values)], minlength=persons)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=persons))])
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), _texts(values, code),
                                     type=pa.list_(pa.field(name, pa.string())))
    return counts, lists


def _encoded(column: pa.ChunkedArray[Any], *, ordered: bool = False) -> tuple[pa.Array[Any], np.ndarray]:
    """A text column's distinct values (sorted when ``ordered``) and each row's code (a null: ``len(values)``)."""
    text = column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(text.combine_chunks()))
    values: pa.Array[Any] = encoded.dictionary
    codes = _integers(encoded.indices, len(values))
    if ordered and len(values):
        order = np.asarray(pc.sort_indices(values))
        rank = np.empty(len(values) + 1, dtype=np.int64)
        rank[order] = np.arange(len(values))
        rank[-1] = len(values)
        values, codes = values.take(pa.array(order)), rank[codes]
    return values, codes


def _texts(values: pa.Array[Any], codes: np.ndarray) -> pa.Array[Any]:
    """``values`` at ``codes`` as text, ``len(values)`` giving a null."""
    null = codes == len(values)
    return values.take(pa.array(np.where(null, 0, codes), pa.int64(), mask=null)).cast(pa.string())


def _days(column: pa.ChunkedArray[Any] | pa.Array[Any]) -> np.ndarray:
    """Dates as day numbers."""
    return _integers(column.cast(pa.int32()) if pa.types.is_date32(column.type) else column, 0)


def _integers(column: pa.ChunkedArray[Any] | pa.Array[Any], null: int) -> np.ndarray:
    """An integer column as int64, its nulls as ``null``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        column = pc.fill_null(column, pa.scalar(null, column.type))
    return np.asarray(column.to_numpy(zero_copy_only=False)).astype(np.int64, copy=False)

