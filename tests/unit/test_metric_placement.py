"""``metrics.placement.placed_events`` equals its definition, the ``events`` view's SQL run by DuckDB."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api, schemas
from auditor.metrics import placement
from auditor.metrics.catalog import views
from auditor.metrics.placement import placed_events
from auditor.metrics.runner import _arrow_years, _strip_header, connect, encoded_texts
from auditor.metrics.sequence import add_previous
from auditor.policy import Delegation, Group, Holidays, Interval, Policy, default_group, parse_policy
from auditor.synth.world import World
from tests.unit.test_samples import SAMPLE_DAYS

UTC = dt.UTC
SAMPLES = Path(__file__).parents[2] / "sample_exports"
#: The tables the view reads besides the canonical kinds.
POLICY_INPUTS = ("policy_params", "identities", "policy_holidays", "minute_slots", "delegation_minutes")
#: Instants next to clock changes: Paris spring and autumn 2026, New York autumn 2026, Paris spring 2041 (past the
#: 2037 end of explicit transitions in compiled zone files), Lord Howe's half-hour change.
ANCHORS = (
    dt.datetime(2026, 3, 29, 1, tzinfo=UTC), dt.datetime(2026, 10, 25, 1, tzinfo=UTC),
    dt.datetime(2026, 11, 1, 6, tzinfo=UTC), dt.datetime(2041, 3, 31, 1, tzinfo=UTC),
    dt.datetime(2026, 4, 4, 15, tzinfo=UTC), dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
)
ZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
#: The columns each kind's SQL reads, besides tool and agent.
TIME_COLUMNS = {
    "appointments": ("start", "end"),
    "queue_tickets": ("called_at", "served_start", "issued_at", "served_end"),
    "positions": ("time",),
    "web_requests": ("time",),
    "clock_events": ("time",),
    "care_acts": ("start", "recorded_at", "planned_start", "end"),
    "case_actions": ("time",),
    "activity_events": ("time",),
}
DURATIONS = (0.0, 0.5, 1.5e-6, 2.5e-6, -2.5e-6, 59.9999995, 3600.25, -30.5, 86_400.0 * 2.5)


def _decoded(table: pa.Table) -> pa.Table:
    """Text columns come back dictionary-encoded: the same values."""
    for index, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(field.type.value_type))
    return table


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted((tuple(row.values()) for row in _decoded(table).to_pylist()), key=repr)


def _sql_and_inputs(tables: dict[str, pa.Table], policy: Policy) -> tuple[pa.Table, dict[str, pa.Table]]:
    """The view's SQL result on ``tables`` and ``policy``, and every table it reads, as the runner makes them (the
    schedule views created from their own SQL)."""
    con = connect()
    con.execute("SET threads = 1")
    for name, table in {**tables, **policy.tables(_arrow_years(tables))}.items():
        con.register(name, table)
    specs = {spec.name: spec for spec in views()}
    for name in ("identities", "minute_slots", "delegation_minutes"):
        con.execute(f"CREATE TEMP TABLE {name} AS {_strip_header(specs[name].sql)}")
    expected = con.sql(_strip_header(specs["events"].sql)).to_arrow_table()
    inputs = dict(tables)
    for name in POLICY_INPUTS:
        inputs[name] = con.sql(f"SELECT * FROM {name}").to_arrow_table()
    return expected, inputs


def _assert_same(tables: dict[str, pa.Table], policy: Policy, encoded: tuple[str, ...] = ()) -> None:
    """``placed_events``' table equals the SQL; the kinds ``encoded`` given to it as a bucket holds them (their text
    dictionary-encoded)."""
    expected, inputs = _sql_and_inputs(tables, policy)
    got, _ = placed_events({**inputs, **{kind: encoded_texts(kind, inputs[kind]) for kind in encoded}})
    assert got.schema.names == expected.schema.names
    assert _decoded(got).schema.types == expected.schema.types
    assert _rows(got) == _rows(expected)


@st.composite
def instants(draw: st.DrawFn) -> dt.datetime | None:
    """A time near a clock change (or null), to the microsecond."""
    if draw(st.integers(0, 9)) == 0:
        return None
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + dt.timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)),
                                 microseconds=draw(st.sampled_from([0, 1, 999_999, 500_000])))


@st.composite
def kind_tables(draw: st.DrawFn, kind: str) -> pa.Table:
    """A canonical table of ``kind`` with the columns the view reads drawn, the others null, in several chunks."""
    size = draw(st.integers(0, 8))
    schema = schemas.empty_table(kind).schema
    drawn: dict[str, list[Any]] = {
        "tool": draw(st.lists(st.sampled_from(["gps", "badge"]), min_size=size, max_size=size)),
        "agent": draw(st.lists(st.sampled_from(["a1", "a2", "b1", "c1", "P", None]), min_size=size, max_size=size)),
    }
    for name in TIME_COLUMNS[kind]:
        drawn[name] = draw(st.lists(instants(), min_size=size, max_size=size))
    if "duration_s" in schema.names:
        duration = st.one_of(st.none(), st.sampled_from(DURATIONS), st.floats(-100, 20_000, allow_nan=False))
        drawn["duration_s"] = draw(st.lists(duration, min_size=size, max_size=size))
    columns = {f.name: pa.array(drawn[f.name], f.type) if f.name in drawn else pa.nulls(size, f.type)
               for f in schema}
    table = pa.table(columns, schema=schema)
    cut = draw(st.integers(0, size))
    return pa.concat_tables([table.slice(0, cut), table.slice(cut)])


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Groups (one without any schedule), members, identity map (an identifier possibly claimed twice),
    holidays and delegation by weekday or by date, for an identifier or a person."""
    groups = {
        "default": default_group(),
        "night": Group("night", (6, 7), (Interval(0, 360), Interval(1320, 1440)), (Interval(120, 150),)),
        "empty": Group("empty", (), (), ()),
    }
    identity: list[tuple[str, str, str]] = [("P", "gps", "a1"), ("P", "*", "b1"), ("Q", "badge", "a2")]
    if draw(st.booleans()):
        identity.append(("R", "gps", "a1"))  # the same identifier declared for two persons: two rows
    delegation = []
    for _ in range(draw(st.integers(0, 3))):
        who = draw(st.sampled_from(["P", "a1", "a2", "c1", "Q"]))
        start = draw(st.integers(0, 1000))
        interval = Interval(start, draw(st.integers(start + 1, 1440)))
        if draw(st.booleans()):
            delegation.append(Delegation(who, draw(st.integers(1, 7)), None, interval))
        else:
            day = (draw(st.sampled_from(ANCHORS)) + dt.timedelta(days=draw(st.integers(-1, 1)))).date()
            delegation.append(Delegation(who, None, day, interval))
    added = tuple((a + dt.timedelta(days=draw(st.integers(-2, 2)))).date()
                  for a in draw(st.lists(st.sampled_from(ANCHORS), max_size=2)))
    return Policy(
        timezone=draw(st.sampled_from(ZONES)),
        groups=groups,
        members={"P": "night", "a2": "empty", "c1": draw(st.sampled_from(["default", "night", "empty"]))},
        holidays=Holidays(calendar=draw(st.sampled_from(["fr", "none"])), add=added),
        delegation=tuple(delegation),
        identity=tuple(identity),
    )


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({kind: kind_tables(kind) for kind in schemas.KINDS}), policies())
def test_placement_equals_the_sql_view(tables: dict[str, pa.Table], policy: Policy) -> None:
    _assert_same(tables, policy)


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({kind: kind_tables(kind) for kind in schemas.KINDS}), policies(),
       st.sets(st.sampled_from(schemas.KINDS)))
def test_placement_reads_a_buckets_encoded_text(tables: dict[str, pa.Table], policy: Policy,
                                                encoded: set[str]) -> None:
    _assert_same(tables, policy, tuple(sorted(encoded)))


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({kind: kind_tables(kind) for kind in schemas.KINDS}), policies())
def test_the_arrays_placement_hands_on_order_the_events_as_their_columns_do(tables: dict[str, pa.Table],
                                                                           policy: Policy) -> None:
    """``add_previous`` given the arrays the events were made of gives what it reads back from their columns."""
    _, inputs = _sql_and_inputs(tables, policy)
    events, keys = placed_events(inputs)
    assert add_previous(events, keys).equals(add_previous(events))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e12, 1e12, allow_nan=False),
                          st.integers(-10**6, 10**6).map(lambda n: n + 0.5),
                          st.integers(-10**6, 10**6).map(lambda n: n - 0.5)), max_size=50))
def test_durations_round_as_duckdb_casts(values: list[float]) -> None:
    """``CAST(x AS BIGINT)`` of a DOUBLE rounds half to even."""
    con = duckdb.connect(":memory:")
    con.register("v", pa.table({"x": pa.array(values, pa.float64())}))
    expected = [row[0] for row in con.sql("SELECT CAST(x AS BIGINT) FROM v").fetchall()]
    array = np.asarray(values, dtype=np.float64)
    assert placement._bigint(array, np.ones(len(array), dtype=bool)).tolist() == expected


def test_offsets_that_change_within_an_hour_are_converted_one_by_one() -> None:
    """Paris's local mean time ended at 00:01 on 11 March 1911 (Paris time: 23:50:39 UTC the day before)."""
    start = dt.datetime(1911, 3, 10, 23, tzinfo=UTC)
    times = [start + dt.timedelta(minutes=m) for m in range(0, 61, 5)]
    positions = pa.table({"tool": ["gps"] * len(times), "agent": ["a1"] * len(times),
                          "time": pa.array(times, pa.timestamp("us", tz="UTC"))})
    tables = {kind: schemas.empty_table(kind) for kind in schemas.KINDS}
    tables["positions"] = pa.concat_tables([tables["positions"], positions], promote_options="default")
    _assert_same(tables, Policy())


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca"])
def test_times_from_1890_to_2100(zone: str) -> None:
    """Local mean times, rules that changed, clock changes at midnight, and past 2037, where compiled zone files
    stop listing transitions (pyarrow's conversion differs from DuckDB's there): with ends before and after."""
    rng = np.random.default_rng(3)
    size = 3000
    low, high = (np.datetime64(day, "us").astype(np.int64) for day in ("1890-01-01", "2100-01-01"))
    times = pa.array(rng.integers(low, high, size), pa.timestamp("us", tz="UTC"))
    agents = pa.array([f"a{i}" for i in rng.integers(0, 5, size)])
    given: dict[str, dict[str, Any]] = {
        "positions": {"time": times},
        "care_acts": {"start": times, "end": pc.add(times, pa.array(rng.integers(-10**9, 10**11, size),
                                                                        pa.duration("us")))},
        "activity_events": {"time": times, "duration_s": pa.array(rng.random(size) * 200_000 - 1000)},
    }
    tables = {kind: schemas.empty_table(kind) for kind in schemas.KINDS}
    for kind, columns in given.items():
        schema = tables[kind].schema
        columns = {"tool": pa.array(["gps"] * size), "agent": agents, **columns}
        tables[kind] = pa.table({f.name: columns[f.name].cast(f.type) if f.name in columns else pa.nulls(size, f.type)
                                 for f in schema}, schema=schema)
    _assert_same(tables, Policy(timezone=zone))


def test_empty_tables_give_an_empty_table_of_the_same_schema() -> None:
    tables = {kind: schemas.empty_table(kind) for kind in schemas.KINDS}
    _assert_same(tables, Policy())


@pytest.fixture(scope="module")
def sample_tables() -> dict[str, pa.Table]:
    return dict(api.load([SAMPLES]).tables)


def test_sample_exports_give_the_same_events(sample_tables: dict[str, pa.Table]) -> None:
    """The whole demo world (25 to 29 March 2026), with a declaration naming groups, members, identities and
    delegation (by weekday for a person, by date for an identifier), and with the demo world's own."""
    assert sum(table.num_rows for table in sample_tables.values()) > 1000
    _assert_same(sample_tables, Policy())
    seen = Counter(a for t in sample_tables.values() for a in t.column("agent").to_pylist() if a)
    agents = [agent for agent, _ in seen.most_common()]
    policy = Policy(
        groups={"default": default_group(), "empty": Group("empty", (), (), ())},
        members={agents[0]: "empty"},
        identity=((agents[0], "*", agents[1]),),
        delegation=(Delegation(agents[0], 5, None, Interval(600, 720)),
                    Delegation(agents[2], None, dt.date(2026, 3, 26), Interval(0, 1440))),
    )
    _assert_same(sample_tables, policy)
    declared = parse_policy(yaml.safe_dump(World(days=SAMPLE_DAYS).policy(), allow_unicode=True))
    _assert_same(sample_tables, declared)
