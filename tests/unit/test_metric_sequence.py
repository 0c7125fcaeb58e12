"""The previous record of each event (``metrics.sequence``) equals its definition, a DuckDB window."""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.metrics import catalog, sequence
from auditor.metrics.runner import _strip_header
from auditor.metrics.sequence import MARKS_WINDOW_SQL, WINDOW_SQL, add_previous, distinct_marks

UTC = dt.UTC
EPOCH = dt.datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # a DST change in Paris the next night
SLOTS = ("shift", "break", "off_hours", "rest_day", "holiday")


@st.composite
def events(draw: st.DrawFn) -> pa.Table:
    """Events as the view places them: tied records (same agent, time and end) are identical, as in the view,
    where every other column follows from those."""
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["positions", "care_acts"]))
        tool = draw(st.sampled_from(["a", "b"]))
        agent = draw(st.sampled_from(["x", "y", "z", None]))
        t = EPOCH + dt.timedelta(seconds=draw(st.integers(0, 3 * 86400)), microseconds=draw(st.integers(0, 2)))
        busy = t + dt.timedelta(minutes=draw(st.sampled_from([0, 0, 1, 45, 600])))
        day = (t + dt.timedelta(hours=1)).date()  # "local" day, one hour ahead of UTC
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=UTC) - dt.timedelta(hours=1)
        slot = SLOTS[zlib.crc32(repr((kind, tool, agent, t)).encode()) % len(SLOTS)]
        rows.append({"kind": kind, "tool": tool, "agent": agent, "t": t, "busy_until": busy, "local_day": day,
                     "busy_minute": (busy - midnight).total_seconds() / 60, "slot": slot})
    fields: list[pa.Field[Any]] = [
        pa.field("kind", pa.string()), pa.field("tool", pa.string()), pa.field("agent", pa.string()),
        pa.field("t", pa.timestamp("us", tz="UTC")), pa.field("busy_until", pa.timestamp("us", tz="UTC")),
        pa.field("local_day", pa.date32()), pa.field("busy_minute", pa.float64()), pa.field("slot", pa.string())]
    schema = pa.schema(fields)
    return pa.Table.from_pylist(rows, schema=schema)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted((tuple(row.values()) for row in _decoded(table).to_pylist()), key=repr)


def _decoded(table: pa.Table) -> pa.Table:
    """Text columns come back dictionary-encoded: the same values."""
    for index, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(field.type.value_type))
    return table


#: Row orders of the drawn events: as drawn; in time order, as most exports come (sorted by partition alone,
#: then checked); by agent and time; newest first (the check fails: sorted again).
ORDERS = {"drawn": None, "time": [("t", "ascending"), ("busy_until", "ascending")],
          "agent": [("agent", "ascending"), ("t", "ascending"), ("busy_until", "ascending")],
          "newest": [("t", "descending")]}


@settings(max_examples=150, deadline=None)
@given(events(), st.sampled_from([sequence._CODE_LIMIT, 64]), st.sampled_from(sorted(ORDERS)))
def test_previous_record_equals_the_sql_window(table: pa.Table, code_limit: int, order: str) -> None:
    """Also with a tiny integer range, where codes are renumbered and the sort falls back to a lexsort."""
    if ORDERS[order]:
        table = table.sort_by(ORDERS[order])
    sequence._CODE_LIMIT = code_limit
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("placed", table)
    expected = con.sql(WINDOW_SQL.format(events="placed")).to_arrow_table()
    try:
        got = add_previous(table)
    finally:
        sequence._CODE_LIMIT = 1 << 62
    assert got.schema.names == expected.schema.names
    assert _decoded(got).schema.types == expected.schema.types
    assert _rows(got) == _rows(expected)


def test_first_record_of_a_day_has_no_previous() -> None:
    day = dt.date(2026, 3, 2)
    t = [dt.datetime(2026, 3, 2, h, tzinfo=UTC) for h in (9, 8, 11)]
    table = pa.table({"kind": ["positions"] * 3, "tool": ["a"] * 3, "agent": ["x"] * 3,
                      "t": pa.array(t, pa.timestamp("us", tz="UTC")),
                      "busy_until": pa.array([t[0], t[1] + dt.timedelta(hours=2), t[2]], pa.timestamp("us", tz="UTC")),
                      "local_day": [day] * 3, "busy_minute": [540.0, 600.0, 660.0],
                      "slot": ["shift", "off_hours", "shift"]})
    got = _decoded(add_previous(table)).to_pydict()
    assert got["interval_s"] == [3600.0, None, 7200.0]
    assert got["prev_slot"] == ["off_hours", None, "shift"]
    assert got["prev_busy_until"] == [t[1] + dt.timedelta(hours=2), None, t[1] + dt.timedelta(hours=2)]
    assert got["prev_busy_minute"] == [600.0, None, 600.0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q", None]), st.integers(0, 2), st.integers(0, 1439)),
                max_size=40), st.booleans())
def test_previous_mark_equals_the_sql_window(rows: list[tuple[str | None, int, int]], by_time: bool) -> None:
    if by_time:
        rows = sorted(rows, key=lambda r: (r[1], r[2]))
    marks = pa.table({"person": pa.array([r[0] for r in rows], pa.string()),
                      "local_day": pa.array([dt.date(2026, 3, 28) + dt.timedelta(days=r[1]) for r in rows],
                                            pa.date32()),
                      "minute": pa.array([r[2] for r in rows], pa.int64())})
    con = duckdb.connect(":memory:")
    con.register("marks", marks)
    expected = con.sql(MARKS_WINDOW_SQL.format(traces="marks")).to_arrow_table()
    got = distinct_marks(marks)
    assert _decoded(got).schema.types == expected.schema.types
    assert _rows(got) == _rows(expected)


def test_records_at_the_same_time_are_ordered_by_their_end() -> None:
    t = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    ends = [t + dt.timedelta(minutes=m) for m in (30, 10, 20)]
    table = pa.table({"kind": ["care_acts"] * 3, "tool": ["a"] * 3, "agent": ["x"] * 3,
                      "t": pa.array([t] * 3, pa.timestamp("us", tz="UTC")),
                      "busy_until": pa.array(ends, pa.timestamp("us", tz="UTC")),
                      "local_day": [t.date()] * 3, "busy_minute": [630.0, 610.0, 620.0], "slot": ["shift"] * 3})
    got = _decoded(add_previous(table)).to_pydict()
    assert got["prev_busy_until"] == [ends[2], None, ends[1]]
    assert got["prev_busy_minute"] == [620.0, None, 610.0]
    assert got["interval_s"] == [0.0, None, 0.0]


@settings(max_examples=100, deadline=None)
@given(events(), st.lists(st.floats(0, 1439.99), min_size=40, max_size=40))
def test_marks_taken_from_the_events_equal_the_view(table: pa.Table, minutes: list[float]) -> None:
    """``marks_of`` reads the events in place: the same as the ``marks`` view's SQL, then the window."""
    agents = table.column("agent").to_pylist()
    table = (add_previous(table)
             .append_column("person", pa.array(["p" if a in ("x", "y") else a for a in agents], pa.string()))
             .append_column("minute", pa.array(minutes[:table.num_rows], pa.float64())))
    con = duckdb.connect(":memory:")
    con.register("events", table)
    view = next(spec for spec in catalog.views() if spec.name == "marks")
    expected = con.sql(MARKS_WINDOW_SQL.format(traces=f"({_strip_header(view.sql)})")).to_arrow_table()
    got = sequence.marks_of(table)
    assert _decoded(got).schema.types == expected.schema.types
    assert _rows(got) == _rows(expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.floats(-5, 5), st.just(float("nan")))), max_size=30),
       st.booleans())
def test_earlier_max_equals_a_grouped_cummax(rows: list[tuple[int, float]], rising: bool) -> None:
    """The shortcut for values that never decrease in a segment gives the grouped ``cummax``'s result, NaN included
    (and the general way any other)."""
    import numpy as np
    import pandas as pd

    rows = sorted(rows, key=lambda row: row[0])
    if rising:  # sorted within each segment, the shortcut's case (NaN still anywhere)
        rows = sorted(rows, key=lambda row: (row[0], row[1] if row[1] == row[1] else -10.0))
    segment = np.array([row[0] for row in rows], dtype=np.int64)
    values = np.array([row[1] for row in rows], dtype=np.float64)
    running = pd.Series(values).groupby(segment, sort=False).cummax().to_numpy()
    expected = np.concatenate([values[:1], running[:-1]])
    assert np.array_equal(sequence._earlier_max(values, segment), expected, equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 32) - 1) | st.integers(0, 3) | st.integers(65_530, 65_540), max_size=60))
def test_stable_order_is_a_stable_argsort(codes: list[int]) -> None:
    """The radix passes over 8 and 16 bits put equal codes in row order, like a stable argsort."""
    array = np.array(codes, dtype=np.int64)
    got = sequence._stable_order(array)
    assert got is not None
    assert got.tolist() == np.argsort(array, kind="stable").tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400)), max_size=60), st.booleans())
def test_stable_order_by_a_coarser_key_is_the_stable_argsort(rows: list[tuple[int, int]], in_order: bool) -> None:
    """Sorted by the agents' codes alone, then checked: the same order as by (agent, day), whether each agent's
    days come in order (the order kept) or not (sorted again)."""
    if in_order:
        rows = sorted(rows, key=lambda row: row[1])  # time order: each agent's days never go back
    agents = np.array([agent for agent, _ in rows], dtype=np.int64)
    code = agents * 401 + np.array([day for _, day in rows], dtype=np.int64)
    got = sequence._stable_order(code, agents)
    assert got is not None
    assert got.tolist() == np.argsort(code, kind="stable").tolist()


def test_stable_order_leaves_codes_past_32_bits_or_negative_to_the_sort() -> None:
    assert sequence._stable_order(np.array([1 << 32, 0], dtype=np.int64)) is None
    assert sequence._stable_order(np.array([-1, 0], dtype=np.int64)) is None


def test_rows_out_of_time_order_are_sorted_again() -> None:
    """Sorted by partition alone, the rows of a partition stay in row order: out of time order, they are
    sorted again, and a tie on time is ordered by the next key."""
    partition = np.array([1, 0, 1, 1, 0], dtype=np.int64)
    t = np.array([5, 9, 3, 7, 1], dtype=np.int64)
    order, follows = sequence._in_order(partition, t, (t,))
    assert order.tolist() == [4, 1, 2, 0, 3]
    assert follows.tolist() == [False, True, False, True, True]
    end = np.array([2, 0, 1, 0, 0], dtype=np.int64)
    order, _ = sequence._in_order(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64), (t[:3] * 0, end[:3]))
    assert order.tolist() == [1, 2, 0]


def test_rows_newest_first_are_put_in_order_without_a_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    """An export listing the latest records first: each partition's rows taken in reverse, checked, not sorted."""
    monkeypatch.setattr(sequence, "_fold", lambda *args, **kwargs: pytest.fail("sorted again"))
    partition = np.array([1, 0, 1, 1, 0], dtype=np.int64)
    t = np.array([9, 8, 7, 5, 1], dtype=np.int64)
    order, follows = sequence._in_order(partition, t, (t,))
    assert order.tolist() == [4, 1, 3, 2, 0]
    assert follows.tolist() == [False, True, False, True, True]
