"""The same agent's previous record the same day, for every event: one sort of the keys, in numpy.

The ``events`` view (``views/10_events.sql``) places each record; this adds what the agent did just before it,
which the sampling interval and the gaps between acts read. In SQL it is a window (the reference the tests
hold it to, ``WINDOW_SQL``); DuckDB's window sorts the twenty columns of every event, which took 40 % of an
audit of 10 M fixes, where sorting the four keys alone takes a tenth of the time.
"""

from __future__ import annotations

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


def add_previous(events: pa.Table) -> pa.Table:
    """``events`` with ``interval_s`` (seconds since the agent's previous record that day), ``prev_slot`` (its
    slot), ``prev_busy_until`` and ``prev_busy_minute`` (the latest end of the earlier acts that day, as an
    instant and as minutes after local midnight); null on an agent's first record of a day. Its text columns
    come back dictionary-encoded (the same values in a third of the memory; DuckDB reads them as text).

    Records tied on time and end are identical in every column, so their order does not change the result."""
    t = _int64(events.column("t"))
    busy = _int64(events.column("busy_until"))
    day = _int64(events.column("local_day"))
    partition, encoded = _codes(events, ("kind", "tool", "agent"), day)
    order, follows = _in_order(partition, t - day * MICROSECONDS_PER_DAY, (t, busy))
    segment = np.cumsum(~follows)
    first = _unsorted(~follows, order)
    previous = _unsorted(np.concatenate([order[:1], order[:-1]]), order)  # row of the record just before
    latest_busy = _unsorted(_earlier_max(busy[order], segment), order)
    latest_minute = _unsorted(_earlier_max(_float64(events.column("busy_minute"))[order], segment), order)
    events = _encoded(events, encoded)
    return (
        events.append_column("interval_s", pa.array((t - t[previous]) / 1e6, pa.float64(), mask=first))
        .append_column("prev_slot", pc.take(events.column("slot"), pa.array(previous, pa.int64(), mask=first)))
        .append_column("prev_busy_until", pa.array(latest_busy, pa.int64(), mask=first)
                       .cast(events.schema.field("busy_until").type))
        .append_column("prev_busy_minute", pa.array(latest_minute, pa.float64(), mask=first))
    )


def _encoded(table: pa.Table, done: dict[str, pa.Array[Any]]) -> pa.Table:
    """``table`` with every text column dictionary-encoded (``done``: those encoded already)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = done.get(field.name)
            if column is None:
                column = pc.dictionary_encode(table.column(index)).combine_chunks()
            table = table.set_column(index, field.name, column)
    return table


def distinct_marks(traces: pa.Table) -> pa.Table:
    """One row per person, local day and minute of ``traces`` (repeats dropped), with ``prev_minute``, the
    person's previous minute with a trace that day (null on the first): ``MARKS_WINDOW_SQL``."""
    minute = _int64(traces.column("minute"))
    partition, _ = _codes(traces, ("person",), _int64(traces.column("local_day")))
    order, follows = _in_order(partition, minute, (minute,))
    kept = np.ones(len(order), dtype=bool)  # the first of each run of equal (person, day, minute)
    kept[1:] = ~follows[1:] | (minute[order][1:] != minute[order][:-1])
    rows = order[kept]
    follows = follows[kept]
    previous = np.concatenate([rows[:1], rows[:-1]])
    return traces.take(rows).append_column("prev_minute", pa.array(minute[previous], pa.int64(), mask=~follows))


def marks_of(events: pa.Table) -> pa.Table:
    """The ``marks`` view (``views/15_marks.sql``: each event's person, local day and minute) taken from the
    completed events in place, then ``distinct_marks``."""
    minute = np.floor(_float64(events.column("minute"))).astype(np.int64)
    return distinct_marks(pa.table({"person": events.column("person"), "local_day": events.column("local_day"),
                                    "minute": minute}))


def _in_order(partition: np.ndarray, within: np.ndarray, keys: tuple[np.ndarray, ...]) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """The rows sorted by partition, then ``keys``; and, in that order, whether each row follows one of its own
    partition. ``within`` orders rows inside a partition like the first key, in a smaller range: when partition
    and ``within`` fold into one integer without ties, one argsort does (five times faster than a lexsort)."""
    low = int(within.min(initial=0))
    combined = _fold(partition, within - low, int(within.max(initial=0)) - low + 1, renumber=False)
    order: np.ndarray | None = None
    if combined is not None:
        order = np.argsort(combined)
        ordered = combined[order]
        if len(keys) > 1 and np.any(ordered[1:] == ordered[:-1]):
            order = None  # ties on the first key: the others decide
    if order is None:
        order = np.lexsort((*reversed(keys), partition))
    ordered = partition[order]
    follows = np.zeros(len(order), dtype=bool)
    follows[1:] = ordered[1:] == ordered[:-1]
    return order, follows


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


def _codes(table: pa.Table, names: tuple[str, ...], days: np.ndarray) -> tuple[np.ndarray, dict[str, pa.Array[Any]]]:
    """One integer per distinct value of the text columns ``names`` and ``days`` together (a null is a value of
    its own, as in PARTITION BY), and those columns dictionary-encoded."""
    code = np.zeros(table.num_rows, dtype=np.int64)
    encoded: dict[str, pa.Array[Any]] = {}
    for name in names:
        column = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(table.column(name)).combine_chunks())
        encoded[name] = column
        size = len(column.dictionary)  # a null takes the code after the last value
        indices = np.asarray(column.indices.to_numpy(zero_copy_only=False))
        indices = np.where(column.is_null().to_numpy(zero_copy_only=False), size, indices)
        code = _fold(code, indices, size + 1)
    low = int(days.min(initial=0))
    return _fold(code, days - low, int(days.max(initial=0)) - low + 1), encoded


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
