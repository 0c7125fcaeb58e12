"""The same agent's previous record the same day, for every event: one sort of the keys, in numpy.

The ``events`` view (``views/10_events.sql``) places each record; this adds what the agent did just before it,
which the sampling interval and the gaps between acts read. In SQL it is a window (the reference the tests
hold it to, ``WINDOW_SQL``); DuckDB's window sorts the twenty columns of every event, which took 40 % of an
audit of 10 M fixes, where sorting the four keys alone takes a tenth of the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The definition, as a DuckDB window over the placed events (``s``): what ``add_previous`` computes.
WINDOW_SQL = """
SELECT s.*,
       epoch(s.t - lag(s.t) OVER day_order) AS interval_s,
       lag(s.slot) OVER day_order AS prev_slot,
       max(s.busy_until) OVER earlier AS prev_busy_until,
       max(s.busy_minute) OVER earlier AS prev_busy_minute
FROM {events} s
WINDOW day_order AS (PARTITION BY s.kind, s.tool, s.agent, s.local_day ORDER BY s.t, s.busy_until),
       earlier AS (PARTITION BY s.kind, s.tool, s.agent, s.local_day ORDER BY s.t, s.busy_until
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
"""

#: The definition of ``distinct_marks`` over the traces the ``marks`` view selects (``m``).
MARKS_WINDOW_SQL = """
SELECT m.*, lag(m.minute) OVER (PARTITION BY m.person, m.local_day ORDER BY m.minute) AS prev_minute
FROM (SELECT DISTINCT * FROM {traces}) m
"""

MICROSECONDS_PER_DAY = 86_400_000_000

#: Past this, combined group codes are renumbered before another column is folded in (int64 must not overflow).
_CODE_LIMIT = 1 << 62


@dataclass(frozen=True)
class DayOrder:
    """What ``add_previous`` reads of each event: its (kind, tool, agent, local day) as one integer, its time and
    the end of its act (microseconds), and that end in minutes after local midnight."""

    partition: np.ndarray
    day: np.ndarray
    t: np.ndarray
    busy: np.ndarray
    busy_minute: np.ndarray
    texts: np.ndarray | None = None  # (kind, tool, agent) folded without the day, ordered alike (``_partition``)

    @classmethod
    def of(cls, events: pa.Table) -> DayOrder:
        """Read from the placed events' columns."""
        texts = [_encoded_codes(events.column(name))[1:] for name in ("kind", "tool", "agent")]
        return cls.of_codes(texts, _int64(events.column("local_day")), _int64(events.column("t")),
                            _int64(events.column("busy_until")), _float64(events.column("busy_minute")))

    @classmethod
    def of_codes(cls, texts: list[tuple[np.ndarray, int]], day: np.ndarray, t: np.ndarray, busy: np.ndarray,
                 busy_minute: np.ndarray) -> DayOrder:
        """From arrays the caller holds: each text key as codes in ``range(size)`` (a null a code of its own)."""
        partition, folded = _partition(texts, day)
        return cls(partition, day, t, busy, busy_minute, folded)


def add_previous(events: pa.Table, keys: DayOrder | None = None) -> pa.Table:
    """``events`` with ``interval_s`` (seconds since the agent's previous record that day), ``prev_slot`` (its
    slot), ``prev_busy_until`` and ``prev_busy_minute`` (the latest end of the earlier acts that day, as an
    instant and as minutes after local midnight); null on an agent's first record of a day. Its text columns
    come back dictionary-encoded (the same values in a third of the memory; DuckDB reads them as text).
    ``keys``: the events' ``DayOrder``, when the caller has it (``placement.placed_events``), else read from them.

    Records tied on time and end are identical in every column, so their order does not change the result."""
    keys = keys or DayOrder.of(events)
    t, busy = keys.t, keys.busy
    order, follows = _in_order(keys.partition, t - keys.day * MICROSECONDS_PER_DAY, (t, busy), keys.texts)
    first = _unsorted(~follows, order)
    previous = _unsorted(np.concatenate([order[:1], order[:-1]]), order)  # row of the record just before
    t_before = t[previous]
    latest_busy = _earlier(busy, previous, first, order, follows, t_before if busy is t else None)
    latest_minute = _earlier(keys.busy_minute, previous, first, order, follows)
    events = _encoded(events)
    return (
        events.append_column("interval_s", pa.array((t - t_before) / 1e6, pa.float64(), mask=first))
        .append_column("prev_slot", pc.take(events.column("slot"), pa.array(previous, pa.int64(), mask=first)))
        .append_column("prev_busy_until", pa.array(latest_busy, pa.int64(), mask=first)
                       .cast(events.schema.field("busy_until").type))
        .append_column("prev_busy_minute", pa.array(latest_minute, pa.float64(), mask=first))
    )


def _encoded(table: pa.Table) -> pa.Table:
    """``table`` with every text column dictionary-encoded, in one chunk."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(index, field.name, pc.dictionary_encode(table.column(index)).combine_chunks())
    return table


def distinct_marks(traces: pa.Table) -> pa.Table:
    """One row per person, local day and minute of ``traces`` (repeats dropped), with ``prev_minute``, the
    person's previous minute with a trace that day (null on the first): ``MARKS_WINDOW_SQL``."""
    return _distinct_marks(traces.column("person"), traces.column("local_day"), _int64(traces.column("minute")))


def marks_of(events: pa.Table) -> pa.Table:
    """The ``marks`` view (``views/15_marks.sql``: each event's person, local day and minute) taken from the
    completed events in place, then ``distinct_marks``."""
    minute = np.floor(_float64(events.column("minute"))).astype(np.int64)
    return _distinct_marks(events.column("person"), events.column("local_day"), minute)


def _distinct_marks(person: pa.ChunkedArray[Any], local_day: pa.ChunkedArray[Any], minute: np.ndarray) -> pa.Table:
    """``distinct_marks`` of these columns; its rows made from the arrays sorted here (a take of the table's
    chunked columns cost as much as the sort)."""
    encoded, codes, size = _encoded_codes(person)
    day = _int64(local_day)
    order, follows = _in_order(_partition([(codes, size)], day)[0], minute, (minute,), codes)
    kept = np.ones(len(order), dtype=bool)  # the first of each run of equal (person, day, minute)
    kept[1:] = ~follows[1:] | (minute[order][1:] != minute[order][:-1])
    rows = order[kept]
    follows = follows[kept]
    previous = np.concatenate([rows[:1], rows[:-1]])
    taken = codes[rows]
    people: pa.Array[Any] = pa.DictionaryArray.from_arrays(
        pa.array(taken, pa.int32(), mask=taken == size - 1 if encoded.null_count else None), encoded.dictionary)
    if not pa.types.is_dictionary(person.type):
        people = people.cast(person.type)
    days = pa.array(day[rows], pa.int64()).cast(pa.int32())
    return pa.table({
        "person": people,
        "local_day": days.view(pa.date32()) if pa.types.is_date32(local_day.type) else days.cast(local_day.type),
        "minute": pa.array(minute[rows], pa.int64()),
        "prev_minute": pa.array(minute[previous], pa.int64(), mask=~follows),
    })


def _in_order(partition: np.ndarray, within: np.ndarray, keys: tuple[np.ndarray, ...],
              texts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows sorted by partition, then ``keys``; and, in that order, whether each row follows one of its own
    partition. Rows that come in time order (or newest first) are only sorted by partition, by radix passes, and
    checked. Else ``within``, which orders rows inside a partition like the first key in a smaller range, is folded
    with the partition into one integer: without ties, one argsort does (five times faster than a lexsort).
    ``texts``: the partition's text codes before its day was folded in (``_stable_order``'s ``coarse``)."""
    order = _stable_order(partition, texts)
    if order is not None:
        follows = _follows(partition[order])
        if _sorted_within(order, follows, keys):  # the usual case: rows come in time order, or by agent and time
            return order, follows
        newest_first = _reversed_runs(order, follows)  # exports listing the latest records first
        if _sorted_within(newest_first, follows, keys):
            return newest_first, follows
        order = None
    low = int(within.min(initial=0))
    combined = _fold(partition, within - low, int(within.max(initial=0)) - low + 1, renumber=False)
    if combined is not None:
        order = np.argsort(combined)
        ordered = combined[order]
        if len(keys) > 1 and np.any(ordered[1:] == ordered[:-1]):
            order = None  # ties on the first key: the others decide
    if order is None:
        order = np.lexsort((*reversed(keys), partition))
    return order, _follows(partition[order])


def _follows(ordered: np.ndarray) -> np.ndarray:
    """Whether each value of sorted ``ordered`` equals the one before it."""
    follows = np.zeros(len(ordered), dtype=bool)
    np.equal(ordered[1:], ordered[:-1], out=follows[1:])
    return follows


def _stable_order(code: np.ndarray, coarse: np.ndarray | None = None) -> np.ndarray | None:
    """The rows sorted by ``code`` (integers from 0 below 2^32), ties in row order; None past that range.
    numpy's stable argsort is a radix sort for 8- and 16-bit integers: one pass per 16 bits of the codes, each
    a sixth of an argsort of int64 (1.25 M rows: 20 against 118 ms).

    ``coarse``, a key that never decreases as ``code`` grows (an agent's code, where ``code`` is its agent-day),
    is tried first: where the rows sorted by it alone come out sorted by ``code`` — an agent's days come in order
    when its rows come in time order —, that is the same order, equal codes in row order, in fewer passes (one for
    a bucket's agents, where their days made two: a bucket of 470 k fixes, ``add_previous`` 16 -> 13 ms, ``marks``
    26 -> 23 ms)."""
    if coarse is not None:
        by_coarse = _stable_order(coarse)
        if by_coarse is not None:
            ordered = code[by_coarse]
            if bool(np.all(ordered[1:] >= ordered[:-1])):
                return by_coarse
    bits = int(code.max(initial=0)).bit_length()
    if bits > 32 or int(code.min(initial=0)) < 0:
        return None
    order: np.ndarray | None = None
    for shift in range(0, max(bits, 1), 16):
        width = min(16, bits - shift)
        digit = code if order is None else code[order]
        digit = ((digit >> shift) & ((1 << width) - 1)).astype(np.uint8 if width <= 8 else np.uint16)
        step = np.argsort(digit, kind="stable")
        order = step if order is None else order[step]
    return order


def _reversed_runs(order: np.ndarray, follows: np.ndarray) -> np.ndarray:
    """``order`` with each run of one partition (``follows`` false at its first row) in the reverse order."""
    position = np.arange(len(order))
    starts = np.flatnonzero(~follows)
    ends = np.append(starts[1:], len(order))
    run = np.cumsum(~follows) - 1
    reversed_order: np.ndarray = order[starts[run] + ends[run] - 1 - position]
    return reversed_order


def _sorted_within(order: np.ndarray, follows: np.ndarray, keys: tuple[np.ndarray, ...]) -> bool:
    """Whether the rows in ``order`` are sorted by ``keys`` inside each partition (``follows``: the row is of the
    partition of the row before it)."""
    tied = follows[1:].copy()  # pairs of one partition, equal on the keys compared so far
    for key in keys:
        ordered = key[order]
        if bool(np.any(tied & (ordered[1:] < ordered[:-1]))):
            return False
        tied &= ordered[1:] == ordered[:-1]
        if not tied.any():
            break
    return True


def _earlier(values: np.ndarray, previous: np.ndarray, first: np.ndarray, order: np.ndarray, follows: np.ndarray,
             before: np.ndarray | None = None) -> np.ndarray:
    """For each row, the largest value of the earlier rows of its partition (any value on a partition's first row:
    the caller masks those). Where values never decrease along a partition (records without an end, or acts one
    after the other: the usual case), that is the previous row's value (``before``, when the caller has it), taken
    in row order; else ``_earlier_max`` in sorted order."""
    before = values[previous] if before is None else before
    if bool(np.all((values >= before) | first)):
        return before
    return _unsorted(_earlier_max(values[order], np.cumsum(~follows)), order)


def _earlier_max(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """For each position of a sorted run of segments, the largest value before it in its segment (its own value
    where it is the segment's first: the caller masks those).

    Where the values never decrease within a segment (records without an end, or acts one after the other: the
    usual case), the running maximum is the values themselves, and the grouped ``cummax`` is not needed (a third
    of the cost of the events of 10 M fixes). A NaN inside a segment compares false, so it takes the general way.
    """
    rising = values[1:] >= values[:-1]
    if bool(np.all(rising | (segment[1:] != segment[:-1]))):
        running = values
    else:
        import pandas as pd  # here: its import is most of a second, which commands that audit nothing need not pay

        running = pd.Series(values).groupby(segment, sort=False).cummax().to_numpy()
    earlier = np.empty_like(running)
    earlier[:1] = values[:1]
    earlier[1:] = running[:-1]
    return earlier


def _unsorted(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Values given in sorted order, put back in the table's row order."""
    out = np.empty_like(values)
    out[order] = values
    return out


def _encoded_codes(column: pa.ChunkedArray[Any]) -> tuple[pa.DictionaryArray[Any, Any], np.ndarray, int]:
    """A text column (plain, or encoded without repeated values) as one dictionary array, and as one code per row
    in ``range(size)`` with a null the last code (a value of its own, as in PARTITION BY), and that size."""
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(column).combine_chunks())
    size = len(encoded.dictionary)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    if encoded.null_count:  # (the indices came as floats, NaN where null)
        indices = np.where(encoded.is_null().to_numpy(zero_copy_only=False), size, indices).astype(np.int64)
    return encoded, indices, size + 1


def _partition(texts: list[tuple[np.ndarray, int]], days: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """One integer per distinct combination of the text codes and ``days``: folded in place while the product of
    their ranges fits (the usual case: a few tools and kinds, a bucket's agents, a year of days), else through
    ``_fold``, which renumbers before it would overflow. And, in the first case, the text codes folded alone
    (``_stable_order``'s ``coarse``)."""
    low = int(days.min(initial=0))
    span = int(days.max(initial=0)) - low + 1
    if math.prod(max(size, 1) for _, size in texts) * span < _CODE_LIMIT:  # the same integers as _fold's
        code = np.zeros(len(days), dtype=np.int64)
        for codes, size in texts:
            code *= max(size, 1)
            code += codes
        folded = code.copy()
        code *= span
        code += days
        code -= low
        return code, folded
    code = np.zeros(len(days), dtype=np.int64)
    for codes, size in texts:
        code = _fold(code, codes, size)
    return _fold(code, days - low, span), None


@overload
def _fold(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray: ...
@overload
def _fold(code: np.ndarray, values: np.ndarray, size: int, *, renumber: bool) -> np.ndarray | None: ...
def _fold(code: np.ndarray, values: np.ndarray, size: int, *, renumber: bool = True) -> np.ndarray | None:
    """``code`` refined by ``values`` (in ``range(size)``); if int64 would overflow, ``code`` is renumbered
    first (``renumber``), or there is no result."""
    size = max(size, 1)
    if (int(code.max(initial=0)) + 1) * size >= _CODE_LIMIT:
        if not renumber:
            return None
        code = np.unique(code, return_inverse=True)[1].astype(np.int64)
    return code * size + values.astype(np.int64)


def _int64(column: pa.ChunkedArray[Any]) -> np.ndarray:
    """Times and dates as their integer count (microseconds, days); never null in ``events``."""
    values = column.combine_chunks()
    if pa.types.is_date32(values.type):
        values = values.cast(pa.int32())
    return np.asarray(values.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _float64(column: pa.ChunkedArray[Any]) -> np.ndarray:
    return np.asarray(column.combine_chunks().to_numpy(zero_copy_only=False), dtype=np.float64)
