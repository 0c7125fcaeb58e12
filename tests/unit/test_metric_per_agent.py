"""The numpy per-agent metrics (``metrics.per_agent``) return what their SQL files return in DuckDB."""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api
from auditor.metrics import per_agent
from auditor.metrics.catalog import metrics
from auditor.metrics.runner import MetricRunner, _strip_header
from auditor.metrics.sequence import add_previous
from auditor.policy import parse_policy
from auditor.synth.world import World
from tests.conftest import SAMPLES
from tests.unit.test_samples import SAMPLE_DAYS

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
EPOCH = dt.datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # the clock changes in Paris the next night
SLOTS = ("shift", "shift", "shift", "break", "off_hours", "rest_day", "holiday")
#: Moments the acts cluster around, so that an agent has several a day (short gaps, ties): late evening, the
#: night of the clock change, a morning, local midnight, an afternoon two days later.
ANCHORS = (0, 6 * 3600, 13 * 3600, 27 * 3600 + 1800, 64 * 3600)
#: DuckDB adds floats in an order of its own with several threads: sums of gap minutes are compared to 1e-9.
SUMS = ("minutes_gaps_1_10", "minutes_gaps_10_plus")
TEXT = pa.dictionary(pa.int32(), pa.string())
_FIELDS: list[pa.Field[Any]] = [
    pa.field("kind", pa.string()), pa.field("tool", pa.string()), pa.field("agent", pa.string()),
    pa.field("person", pa.string()), pa.field("t", pa.timestamp("us", tz="UTC")),
    pa.field("busy_until", pa.timestamp("us", tz="UTC")), pa.field("local_t", pa.timestamp("us")),
    pa.field("local_day", pa.date32()), pa.field("isodow", pa.int64()), pa.field("minute", pa.float64()),
    pa.field("busy_minute", pa.float64()), pa.field("grp", pa.string()), pa.field("slot", pa.string()),
    pa.field("is_weekend", pa.bool_()), pa.field("in_delegation", pa.bool_())]
PLACED = pa.schema(_FIELDS)


@st.composite
def placed(draw: st.DrawFn) -> pa.Table:
    """Events as the ``events`` view places them (before ``add_previous``), local time in Paris. Records of
    one agent at the same time and end are identical, as in the view."""
    rows = []
    for _ in range(draw(st.integers(0, 60))):
        kind = draw(st.sampled_from(["positions", "care_acts", "web_requests"]))
        tool = draw(st.sampled_from(["a", "b"]))
        agent = draw(st.sampled_from(["x", "y", "z", None]))
        seconds = draw(st.one_of(st.integers(0, 5400), st.sampled_from([0, 600, 601])))  # some ties
        t = EPOCH + dt.timedelta(seconds=draw(st.sampled_from(ANCHORS)) + seconds,
                                 microseconds=draw(st.sampled_from([0, 0, 1, 250_000, 999_999])))
        busy = t + dt.timedelta(minutes=draw(st.sampled_from([0, 0, 0, 1, 3, 45, 600])),
                                seconds=draw(st.sampled_from([0, 0, 30])))
        local = t.astimezone(PARIS).replace(tzinfo=None)
        midnight = dt.datetime.combine(local.date(), dt.time())
        local_busy = busy.astimezone(PARIS).replace(tzinfo=None)
        mix = zlib.crc32(repr((kind, tool, agent, t, busy)).encode())
        grp = ("g1", "g1", "g2", None)[mix % 4] if agent is not None else "g1"
        rows.append({"kind": kind, "tool": tool, "agent": agent, "person": agent, "t": t, "busy_until": busy,
                     "local_t": local, "local_day": local.date(), "isodow": local.isoweekday(),
                     "minute": (local - midnight).total_seconds() / 60,
                     "busy_minute": (local_busy - midnight).total_seconds() / 60, "grp": grp,
                     "slot": SLOTS[mix // 7 % len(SLOTS)], "is_weekend": local.isoweekday() >= 6,
                     "in_delegation": (True, False, False, None)[mix // 11 % 4]})
    return pa.Table.from_pylist(rows, schema=PLACED)


def completed(table: pa.Table, chunk: int) -> pa.Table:
    """The events as the metrics see them: completed by ``add_previous``, in batches of ``chunk`` rows."""
    done = add_previous(table)
    return pa.Table.from_batches(done.to_batches(max_chunksize=chunk), schema=done.schema)


@st.composite
def breaks(draw: st.DrawFn, events: pa.Table) -> pa.Table:
    """Declared breaks of a few groups; many start near the window between two acts in shift of the same
    group and weekday (inside it, or a minute out), so that some fall between two acts."""
    windows = [(row["grp"], row["isodow"], math.ceil(row["prev_busy_minute"]), math.ceil(row["minute"]))
               for row in events.select(["grp", "isodow", "prev_busy_minute", "minute"]).to_pylist()
               if row["grp"] is not None and row["prev_busy_minute"] is not None
               and row["prev_busy_minute"] < row["minute"]]
    anywhere = st.tuples(st.sampled_from(["g1", "g2", "g3"]), st.integers(1, 7), st.integers(0, 1439))
    between = st.sampled_from(windows).flatmap(
        lambda w: st.tuples(st.just(w[0]), st.just(w[1]), st.integers(max(0, w[2] - 1), w[3])))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        grp, isodow, start = draw(st.one_of(anywhere, between) if windows else anywhere)
        rows.append((grp, isodow, start, start + draw(st.integers(1, 90))))
    return breaks_of(rows)


#: The ways the module can take, with its settings forced: the usual one; rows in blocks of 3; group codes
#: numbered by a sort (as for huge dictionaries); numbered by flags (as for many agent-days); (group, value)
#: pairs lexsorted; (group, hour), (group, day) and (group, whole second) keys sorted instead of counted (as for years
#: of hours, or many distinct intervals).
WAYS = {"usual": {}, "blocks": {"BLOCK_ROWS": 3}, "numbered": {"CODE_RANGE": 0, "CODES_PER_ROW": 0},
        "dense": {"DENSE_KEYS": 0}, "lexsort": {"PACK_BITS": 0},
        "sorted": {"COUNTED_KEYS": 0, "CODES_PER_ROW": 0, "COUNTED_VALUES": 0}}


def forced(way: str, run: Callable[[], pa.Table]) -> pa.Table:
    """``run()`` with the module's settings of ``way``."""
    saved = {name: getattr(per_agent, name) for name in WAYS[way]}
    for name, value in WAYS[way].items():
        setattr(per_agent, name, value)
    try:
        return run()
    finally:
        for name, value in saved.items():
            setattr(per_agent, name, value)


def sql(name: str, events: pa.Table, policy_breaks: pa.Table | None = None, **tables: pa.Table) -> pa.Table:
    """The metric as its SQL file defines it, in DuckDB."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("events", events)
    con.register("policy_breaks", policy_breaks if policy_breaks is not None else breaks_of([]))
    for table_name, table in tables.items():
        con.register(table_name, table)
    result: pa.Table = con.sql(_strip_header(metrics()[name].sql)).to_arrow_table()
    return result


def breaks_of(rows: list[tuple[str, int, int, int]]) -> pa.Table:
    return pa.table({"grp": pa.array([r[0] for r in rows], pa.string()),
                     "isodow": pa.array([r[1] for r in rows], pa.int32()),
                     "start_min": pa.array([r[2] for r in rows], pa.int32()),
                     "end_min": pa.array([r[3] for r in rows], pa.int32())})


def assert_same(got: pa.Table, expected: pa.Table) -> None:
    """Same columns and types, same rows in any order; floats exact but for the sums of ``SUMS``."""
    assert got.schema == expected.schema
    assert got.num_rows == expected.num_rows
    key = lambda row: repr((row["kind"], row["tool"], row["agent"]))  # noqa: E731
    for mine, theirs in zip(sorted(got.to_pylist(), key=key), sorted(expected.to_pylist(), key=key), strict=True):
        for name, value in theirs.items():
            if name in SUMS:
                assert math.isclose(mine[name], value, rel_tol=1e-9), (name, mine, theirs)
            else:
                assert repr(mine[name]) == repr(value), (name, mine, theirs)  # repr: -0.0, NaN, types


@settings(max_examples=100, deadline=None)
@given(placed(), st.sampled_from([1 << 20, 7]), st.sampled_from(sorted(WAYS)))
def test_activity_counts_equal_the_sql(table: pa.Table, chunk: int, way: str) -> None:
    events = completed(table, chunk)
    assert_same(forced(way, lambda: per_agent.activity_counts(events)), sql("activity_counts", events))


@settings(max_examples=100, deadline=None)
@given(placed(), st.sampled_from([1 << 20, 7]), st.sampled_from(sorted(WAYS)))
def test_sampling_interval_equals_the_sql(table: pa.Table, chunk: int, way: str) -> None:
    events = completed(table, chunk)
    assert_same(forced(way, lambda: per_agent.sampling_interval(events)), sql("sampling_interval", events))


@settings(max_examples=60, deadline=None)
@given(placed(), st.sampled_from([1.0, math.pi / 3, 1e-7]), st.sampled_from(["usual", "blocks", "lexsort"]))
def test_sampling_interval_of_any_doubles_equals_the_sql(table: pa.Table, factor: float, way: str) -> None:
    """Intervals that are not whole microseconds take the other way of sorting them (an argsort)."""
    events = completed(table, 1 << 20)
    index = events.schema.get_field_index("interval_s")
    events = events.set_column(index, "interval_s", pc.multiply(events.column(index), factor))
    assert_same(forced(way, lambda: per_agent.sampling_interval(events)), sql("sampling_interval", events))


@settings(max_examples=100, deadline=None)
@given(placed(), st.sampled_from(sorted(WAYS)))
def test_sampling_interval_of_whole_seconds_equals_the_sql(table: pa.Table, way: str) -> None:
    """Whole seconds (a GPS export's) are counted per group and distinct value instead of sorted (unless there are
    more such pairs than values: the ``sorted`` way, mostly)."""
    events = completed(table, 1 << 20)
    index = events.schema.get_field_index("interval_s")
    events = events.set_column(index, "interval_s", pc.floor(events.column(index)))
    assert_same(forced(way, lambda: per_agent.sampling_interval(events)), sql("sampling_interval", events))


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from([1 << 20, 7]), st.sampled_from(["usual", "blocks", "numbered"]))
def test_gaps_equal_the_sql(data: st.DataObject, chunk: int, way: str) -> None:
    events = completed(data.draw(placed()), chunk)
    policy_breaks = data.draw(breaks(events))
    assert_same(forced(way, lambda: per_agent.gaps(events, policy_breaks)), sql("gaps", events, policy_breaks))


@settings(max_examples=100, deadline=None)
@given(placed(), st.sampled_from([1 << 20, 7]), st.sampled_from(["usual", "blocks", "numbered"]))
def test_time_windows_and_timestamp_resolution_equal_the_sql(table: pa.Table, chunk: int, way: str) -> None:
    events = completed(table, chunk)
    assert_same(forced(way, lambda: per_agent.time_windows(events)), sql("time_windows", events))
    assert_same(forced(way, lambda: per_agent.timestamp_resolution(events)), sql("timestamp_resolution", events))


def days_by_kind(value: str, days: dict[str, int]) -> pa.Table:
    return pa.table({"kind": pa.array(list(days), pa.string()), value: pa.array(list(days.values()), pa.int64())})


#: Retention caps and declared retention: some kinds without, a declared 0 (``nullif``).
CAPS = days_by_kind("cap_days", {"positions": 60, "web_requests": 180})
DECLARED = days_by_kind("days", {"positions": 0, "care_acts": 3})


@settings(max_examples=100, deadline=None)
@given(placed(), st.sampled_from([1 << 20, 7]), st.sampled_from(sorted(WAYS)))
def test_retention_equals_the_sql(table: pa.Table, chunk: int, way: str) -> None:
    events = completed(table, chunk)
    assert_same(forced(way, lambda: per_agent.retention(events, CAPS, DECLARED)),
                sql("retention", events, retention_caps=CAPS, policy_retention=DECLARED))


def test_retention_wants_one_row_per_kind() -> None:
    events = completed(PLACED.empty_table(), 1 << 20)
    once = days_by_kind("cap_days", {"positions": 60})
    with pytest.raises(ValueError, match="one row per kind"):
        per_agent.retention(events, pa.concat_tables([once, once]), DECLARED)


def test_an_empty_table_gives_empty_results_of_the_same_types() -> None:
    events = completed(PLACED.empty_table(), 1 << 20)
    assert_same(per_agent.activity_counts(events), sql("activity_counts", events))
    assert_same(per_agent.time_windows(events), sql("time_windows", events))
    assert_same(per_agent.timestamp_resolution(events), sql("timestamp_resolution", events))
    assert_same(per_agent.sampling_interval(events), sql("sampling_interval", events))
    assert_same(per_agent.retention(events, CAPS, DECLARED),
                sql("retention", events, retention_caps=CAPS, policy_retention=DECLARED))
    policy_breaks = breaks_of([("g1", 1, 720, 810)])
    assert_same(per_agent.gaps(events, policy_breaks), sql("gaps", events, policy_breaks))


def test_dictionaries_differing_between_chunks_and_plain_text_give_the_same_result() -> None:
    """The completed view shares one dictionary; a table put together from parts may not, or be plain."""
    t = [EPOCH + dt.timedelta(minutes=m) for m in (0, 3, 20, 21, 50)]
    table = pa.table({
        "kind": ["positions"] * 5, "tool": ["a"] * 5, "agent": ["x", "x", "y", "x", None],
        "t": pa.array(t, pa.timestamp("us", tz="UTC")), "busy_until": pa.array(t, pa.timestamp("us", tz="UTC")),
        "local_t": pa.array([v.astimezone(PARIS).replace(tzinfo=None) for v in t], pa.timestamp("us")),
        "local_day": pa.array([dt.date(2026, 3, 28)] * 5, pa.date32()), "isodow": [6] * 5,
        "minute": [1260.0, 1263.0, 1280.0, 1281.0, 1310.0], "busy_minute": [1260.0, 1263.0, 1280.0, 1281.0, 1310.0],
        "grp": ["g1"] * 5, "slot": ["shift"] * 5})
    events = add_previous(table)
    parts = [events.slice(0, 2), events.slice(2)]
    for name in ("agent", "slot", "prev_slot"):  # a different dictionary in each part
        parts = [part.set_column(part.schema.get_field_index(name), name,
                                 pc.dictionary_encode(part.column(name).cast(pa.string())).cast(TEXT))
                 for part in parts]
    mixed = pa.concat_tables(parts)
    plain = pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                      for name, column in zip(events.column_names, events.columns, strict=True)})
    for variant in (mixed, plain):
        assert_same(per_agent.activity_counts(variant), sql("activity_counts", events))
        assert_same(per_agent.sampling_interval(variant), sql("sampling_interval", events))
        assert_same(per_agent.gaps(variant, breaks_of([])), sql("gaps", events))
    assert per_agent.gaps(mixed, breaks_of([])).to_pylist()[0]["n_gaps_1_10"] == 1  # x: 3 minutes, then 20


def test_hours_are_counted_for_the_agents_present_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket's dictionary names every agent of its parts: past ``COUNTED_KEYS`` (hours times the groups the
    dictionary allows), the hours of the groups present are counted, not sorted."""
    t = [EPOCH + dt.timedelta(minutes=m) for m in (0, 3, 70, 130, 131, 200)]
    names = pa.array([f"agent-{i}" for i in range(1000)])
    table = pa.table({
        "kind": ["positions"] * 6, "tool": ["a"] * 6,
        "agent": pa.DictionaryArray.from_arrays(pa.array([7, 7, 500, 7, 500, 7], pa.int32()), names),
        "t": pa.array(t, pa.timestamp("us", tz="UTC")), "busy_until": pa.array(t, pa.timestamp("us", tz="UTC")),
        "local_t": pa.array([v.astimezone(PARIS).replace(tzinfo=None) for v in t], pa.timestamp("us")),
        "local_day": pa.array([v.astimezone(PARIS).date() for v in t], pa.date32()), "isodow": [6] * 6,
        "minute": [0.0] * 6, "busy_minute": [0.0] * 6, "grp": ["g1"] * 6, "slot": ["shift"] * 6})
    events = add_previous(table)
    counted = []
    runs = per_agent._runs
    monkeypatch.setattr(per_agent, "COUNTED_KEYS", 100)  # 1,000 agents x 4 hours: more; 2 x 4: fewer
    monkeypatch.setattr(per_agent, "_runs", lambda keys, span, groups: counted.append(groups) or runs(keys, span,
                                                                                                       groups))
    got = per_agent.activity_counts(events)
    assert counted == [2, 2]
    assert_same(got, sql("activity_counts", events))
    assert got.column("max_per_hour").to_pylist() == [2, 1]  # agent-7: 20:00 and 20:03; agent-500: one an hour


def test_a_null_agent_is_left_out_where_the_sql_joins_on_the_keys() -> None:
    t = [EPOCH + dt.timedelta(minutes=m) for m in (0, 5)]
    table = pa.table({
        "kind": ["positions"] * 2, "tool": ["a"] * 2, "agent": pa.array([None, None], pa.string()),
        "t": pa.array(t, pa.timestamp("us", tz="UTC")), "busy_until": pa.array(t, pa.timestamp("us", tz="UTC")),
        "local_t": pa.array([v.replace(tzinfo=None) for v in t], pa.timestamp("us")),
        "local_day": pa.array([dt.date(2026, 3, 28)] * 2, pa.date32()), "isodow": [6] * 2,
        "minute": [1200.0, 1205.0], "busy_minute": [1200.0, 1205.0], "grp": ["g1"] * 2, "slot": ["shift"] * 2})
    events = add_previous(table)
    assert per_agent.activity_counts(events).num_rows == 0
    assert per_agent.sampling_interval(events).num_rows == 0
    assert per_agent.gaps(events, breaks_of([])).to_pylist() == [
        {"kind": "positions", "tool": "a", "agent": None, "agent_days": 1, "span_days": 300 / 86400,
         "n_gaps_1_10": 0, "n_gaps_10_plus": 0, "minutes_gaps_1_10": 0.0, "minutes_gaps_10_plus": 0.0}]
    assert_same(per_agent.gaps(events, breaks_of([])), sql("gaps", events))


@pytest.mark.parametrize("factor", [1.0, math.pi])
def test_quantiles_interpolate_like_duckdb(factor: float) -> None:
    """DuckDB's ``lo * (1 - d) + hi * d`` is compiled to a fused multiply-add: a plain product and sum
    differs in the last bit for some of these. Whole microseconds, or not (the other way of sorting)."""
    values = np.round(np.random.default_rng(0).exponential(30, 400), 6) * factor
    con = duckdb.connect(":memory:")
    plain_differs = False
    for n in range(2, len(values), 7):
        con.register("v", pa.table({"x": values[:n]}))
        expected = con.sql("SELECT quantile_cont(x, 0.1), quantile_cont(x, 0.5) FROM v").fetchall()[0]
        got = per_agent.sampling_interval(_one_agent(pa.array(values[:n])))
        assert (got.column("p10_interval_s")[0].as_py(), got.column("median_interval_s")[0].as_py()) == expected
        ordered = np.sort(values[:n])
        position = (n - 1) * 0.1
        low, d = int(position), position - int(position)
        plain_differs |= bool(ordered[low] * (1 - d) + ordered[min(low + 1, n - 1)] * d != expected[0])
    assert plain_differs


def _one_agent(intervals: pa.Array[Any]) -> pa.Table:
    """One agent's events, one day, with these intervals (after a first record)."""
    n = len(intervals) + 1
    t = pa.array([EPOCH] * n, pa.timestamp("us", tz="UTC"))
    return pa.table({"kind": ["positions"] * n, "tool": ["a"] * n, "agent": ["x"] * n, "t": t,
                     "local_day": pa.array([dt.date(2026, 3, 28)] * n, pa.date32()),
                     "interval_s": pa.concat_arrays([pa.array([None], pa.float64()), intervals])})


def test_the_demo_world_gives_the_same_results() -> None:
    """The sample exports under the demo world's declaration (groups, breaks): real completed events."""
    policy = parse_policy(yaml.safe_dump(World(days=SAMPLE_DAYS).policy(), allow_unicode=True))
    with MetricRunner(api.load([SAMPLES]).tables, policy) as runner:
        events = runner.con.sql("SELECT * FROM events").to_arrow_table()
        policy_breaks = runner.con.sql("SELECT * FROM policy_breaks").to_arrow_table()
        caps = runner.con.sql("SELECT * FROM retention_caps").to_arrow_table()
        declared = runner.con.sql("SELECT * FROM policy_retention").to_arrow_table()
    assert events.num_rows > 1000 and policy_breaks.num_rows > 0
    encoded = pa.Table.from_batches(pa.table({
        name: pc.dictionary_encode(column) if pa.types.is_string(column.type) else column
        for name, column in zip(events.column_names, events.columns, strict=True)}).to_batches(max_chunksize=4096))
    for table in (events, encoded):
        got = per_agent.gaps(table, policy_breaks)
        assert_same(got, sql("gaps", events, policy_breaks))
        assert pc.sum(got.column("n_gaps_1_10")).as_py() > 0
        assert_same(per_agent.activity_counts(table), sql("activity_counts", events))
        assert_same(per_agent.sampling_interval(table), sql("sampling_interval", events))
        assert_same(per_agent.time_windows(table), sql("time_windows", events))
        assert_same(per_agent.timestamp_resolution(table), sql("timestamp_resolution", events))
        assert_same(per_agent.retention(table, caps, declared),
                    sql("retention", events, retention_caps=caps, policy_retention=declared))
