"""The numpy metrics over GPS fixes (``metrics.fixes``) return what their SQL files return in DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api, schemas
from auditor.metrics import fixes
from auditor.metrics.catalog import metrics, views
from auditor.metrics.runner import MetricRunner, _strip_header, encoded_texts
from auditor.policy import parse_policy
from tests.conftest import SAMPLES

UTC = dt.UTC
NAMES = ("coord_precision", "home_inference", "tracking_controls")
#: Evenings and mornings (UTC) around both clock changes of 2026 in Paris and in New York, and an ordinary day.
ANCHORS = (dt.datetime(2026, 3, 28, 18, tzinfo=UTC), dt.datetime(2026, 3, 8, 4, tzinfo=UTC),
           dt.datetime(2026, 10, 24, 18, tzinfo=UTC), dt.datetime(2026, 11, 1, 3, tzinfo=UTC),
           dt.datetime(2026, 6, 10, 19, tzinfo=UTC))
#: Coordinates whose binary form is inexact, with 0 to 9 decimals, and some next to the macro's 1e-6 margin.
COORDINATES = ("48.1", "2.35", "48.8566", "2.352222", "45.000001", "45.0000009", "45.0000011", "-1.5", "0",
               "7", "43.2965", "5.36978", "-0.000001", "48.85661234", "2.123456789", "179.9999999", "-90",
               "48.1000005", "0.3", "1e-7", "12.3456785")
ACTIVITIES = (None, "", "Pause", "désactivé", "OFF", "walking", "Mode PRIVÉ", "stop-gps", "offline", "Arrêt")
PROVIDERS = (None, "gps", "fused", "Off", "network", "Masqué")
ACTIONS = ("Géolocalisation désactivée", "GPS on", "login", "Suivi: OFF", "tracking started", "location")
DETAILS = (None, "", "Localisation activée", "pause", "enabled")
#: St John's changes its clock at 05:30 or 04:30 UTC: hours holding a change, converted value by value.
ZONES = ("Europe/Paris", "America/New_York", "America/St_Johns")
#: The ways the module can take, with its settings forced: the usual one; sorts instead of dense tables, labels
#: matched pair by pair, local times value by value, decimals in chunks of 3; keys renumbered as if int64 were
#: about to overflow.
WAYS = {"usual": {}, "sorted": {"_DENSE_LIMIT": 0, "_DENSE_PER_ROW": 0, "_LABEL_COMBINATIONS": 0, "_STEP": 3},
        "renumbered": {"_DENSE_LIMIT": 0, "_DENSE_PER_ROW": 0, "_CODE_LIMIT": 64}}


def _schema(kind: str) -> pa.Schema:
    """The kind's canonical schema, every field nullable (the functions must cope with nulls anywhere)."""
    return pa.schema([field.with_nullable(True) for field in schemas.empty_table(kind).schema])


@st.composite
def coordinate(draw: st.DrawFn) -> float | None:
    if draw(st.integers(0, 9)) == 0:
        return None
    if draw(st.booleans()):
        return float(draw(st.sampled_from(COORDINATES)))
    decimals = draw(st.integers(0, 9))
    return float(f"{draw(st.integers(-1_800_000_000, 1_800_000_000)) // 10 ** (9 - decimals)}e-{decimals}")


@st.composite
def moment(draw: st.DrawFn) -> dt.datetime:
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + dt.timedelta(seconds=draw(st.one_of(st.integers(0, 14 * 3600),
                                                       st.sampled_from([0, 3600, 3 * 3600, 10 * 3600]))),
                                 days=draw(st.sampled_from([0, 0, 1, 2])))


@st.composite
def exports(draw: st.DrawFn) -> dict[str, pa.Table]:
    """A few agents (and null ones) of two tools; fixes clustered on a few cells, so that cells tie."""
    agents = st.sampled_from(["x", "y", "z", None])
    tools = st.sampled_from(["t1", "t2", None]) if draw(st.booleans()) else st.sampled_from(["t1", "t2"])
    cells = [(48.8566, 2.3522), (48.857, 2.352), (45.75, 4.85), (-33.86, 151.2)]
    positions = []
    for _ in range(draw(st.integers(0, 40))):
        lat, lon = draw(coordinate()), draw(coordinate())
        if draw(st.booleans()):  # near one of the cells: ties between them
            base = draw(st.sampled_from(cells))
            lat, lon = base[0] + draw(st.sampled_from([0, 0.0004, -0.0001])), base[1] + draw(
                st.sampled_from([0, 0.0003]))
        positions.append({
            "agent": draw(agents), "time": draw(moment()), "lat": lat, "lon": lon, "tool": draw(tools),
            "accuracy_m": draw(st.one_of(st.none(), st.sampled_from([5.0, 12.5, 30.0, 1e-300, 7.25]))),
            "speed_mps": draw(st.one_of(st.none(), st.floats(0, 60, allow_nan=False))),
            "activity": draw(st.sampled_from(ACTIVITIES)), "provider": draw(st.sampled_from(PROVIDERS)),
            "source_file": "f", "source_row": 1})
    clock = [{"agent": draw(agents), "time": draw(moment()), "lat": draw(coordinate()), "lon": draw(coordinate()),
              "accuracy_m": draw(st.one_of(st.none(), st.floats(0, 100, allow_nan=False))), "tool": draw(tools),
              "source_file": "f", "source_row": 1} for _ in range(draw(st.integers(0, 8)))]
    care = [{"agent": draw(agents), "start": draw(moment()), "lat": draw(coordinate()), "lon": draw(coordinate()),
             "tool": draw(tools), "source_file": "f", "source_row": 1} for _ in range(draw(st.integers(0, 8)))]
    activity = [{"agent": draw(agents), "time": draw(moment()), "action": draw(st.sampled_from(ACTIONS)),
                 "detail": draw(st.sampled_from(DETAILS)), "tool": draw(tools), "source_file": "f", "source_row": 1}
                for _ in range(draw(st.integers(0, 8)))]
    chunk = draw(st.integers(1, 16))
    rows: dict[str, list[dict[str, Any]]] = {"positions": positions, "clock_events": clock, "care_acts": care,
                                             "activity_events": activity}
    return {kind: _chunked(pa.Table.from_pylist(data, schema=_schema(kind)), chunk) for kind, data in rows.items()}


def _chunked(table: pa.Table, rows: int) -> pa.Table:
    return pa.Table.from_batches(table.to_batches(max_chunksize=rows), schema=table.schema)


def _inputs(runner: MetricRunner, tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """What the functions read: the kinds, the policy row, and the completed events as the runner holds them
    (text dictionary-encoded, in several chunks)."""
    events = _chunked(runner.con.sql("SELECT * FROM events").to_arrow_table(), 7)
    batches = []
    for batch in events.to_batches():  # each chunk with a dictionary of its own
        columns = [pc.dictionary_encode(column) if pa.types.is_string(column.type) else column
                   for column in batch.columns]
        batches.append(pa.record_batch(columns, names=batch.schema.names))
    if batches:
        events = pa.Table.from_batches(batches)
    else:
        fields: list[pa.Field[Any]] = [field.with_type(pa.dictionary(pa.int32(), pa.string()))
                                       if pa.types.is_string(field.type) else field for field in events.schema]
        events = pa.schema(fields).empty_table()
    return {**tables, "policy_params": runner.con.sql("SELECT * FROM policy_params").to_arrow_table(),
            "events": events}


def sql(name: str, tables: Mapping[str, pa.Table]) -> pa.Table:
    """The metric as its SQL file defines it, in DuckDB (one thread, in UTC, the macros created)."""
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    for table_name, table in tables.items():
        con.register(table_name, table)
    for spec in views():
        if spec.role == "macro":
            con.execute(_strip_header(spec.sql))
    result: pa.Table = con.sql(_strip_header(metrics()[name].sql)).to_arrow_table()
    return result


def _rows(table: pa.Table) -> list[str]:
    return sorted(repr(tuple(row.values())) for row in table.to_pylist())


def assert_same(got: pa.Table, expected: pa.Table) -> None:
    """Same columns and Arrow types, same rows in any order, floats bit for bit."""
    assert got.schema == expected.schema
    assert _rows(got) == _rows(expected)


def _policy(zone: str) -> Any:
    return parse_policy(f"timezone: {zone}\n")


@settings(max_examples=100, deadline=None)
@given(exports(), st.sampled_from(ZONES), st.sampled_from(sorted(WAYS)), st.booleans())
def test_fix_metrics_equal_their_sql(tables: dict[str, pa.Table], zone: str, way: str, bucket: bool) -> None:
    """Each way the functions can take, on the kinds as given or as a bucket holds them (text encoded)."""
    with MetricRunner(tables, _policy(zone)) as runner:
        inputs = _inputs(runner, tables)
    given_inputs = {name: encoded_texts(name, table) if bucket and name in schemas.KINDS else table
                    for name, table in inputs.items()}
    saved = {name: getattr(fixes, name) for name in WAYS[way]}
    try:
        for name, value in WAYS[way].items():
            setattr(fixes, name, value)
        for name in NAMES:
            assert_same(getattr(fixes, name)(given_inputs), sql(name, inputs))
    finally:
        for name, value in saved.items():
            setattr(fixes, name, value)


@pytest.mark.parametrize("zone", [*ZONES, "Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Kolkata", "UTC"])
def test_night_is_read_on_duckdbs_local_time(zone: str) -> None:
    """Every 7 minutes of two years, through both clock changes of each year: 21:00 to 06:00 by DuckDB's own
    ``timezone()`` of each value."""
    start = int(dt.datetime(2025, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    utc = np.arange(start, start + 2 * 366 * fixes.MICROSECONDS_PER_DAY, 7 * 60_000_000 + 13)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("instants", pa.table({"t": pa.array(utc, pa.timestamp("us", tz="UTC"))}))
    night = con.sql("SELECT hour(timezone($zone, t)) >= 21 OR hour(timezone($zone, t)) < 6 FROM instants",
                    params={"zone": zone}).to_arrow_table().column(0).to_numpy(zero_copy_only=False)
    assert np.array_equal(fixes._at_night(utc, zone), night)


#: Numbers of 0 to 9 decimals, some a hair (a few 1e-7 or 1e-12) from a decimal, some next to the macro's margin.
NUMBERS = st.one_of(
    st.floats(-2000, 2000, allow_nan=False),
    st.builds(lambda n, c: n / 10**c, st.integers(-10**10, 10**10), st.integers(0, 9)),
    st.builds(lambda n, c, j, e: n / 10**c + j * 10.0**-e, st.integers(-10**9, 10**9), st.integers(0, 7),
              st.integers(-12, 12), st.sampled_from([6, 7, 12])),
    st.sampled_from([float(c) for c in COORDINATES]))


@settings(max_examples=100, deadline=None)
@given(st.lists(NUMBERS, max_size=60), st.sampled_from([1, 2, 5, 1 << 14]))
def test_decimals_equal_the_macro(values: list[float], step: int) -> None:
    """The decimals of any number, also next to the macro's margin of a millionth; in chunks of ``step``, so
    that each chunk tries the answer most common in the one before."""
    table = pa.table({"x": pa.array(values, pa.float64())})
    con = duckdb.connect(":memory:")
    con.register("t", table)
    macro = next(spec for spec in views() if spec.role == "macro" and spec.name == "decimals")
    con.execute(_strip_header(macro.sql))
    expected = con.sql("SELECT decimals(x) AS d FROM t").to_arrow_table().column("d").to_pylist()
    saved, fixes._STEP = fixes._STEP, step
    try:
        assert fixes._decimals(table.column("x").to_numpy()).tolist() == expected
    finally:
        fixes._STEP = saved


@pytest.mark.parametrize("zones", [["Europe/Paris", "America/New_York"], [None], ["Asia/Kathmandu", None]])
def test_home_inference_crosses_every_row_of_the_policy(zones: list[str | None]) -> None:
    """policy_params is cross-joined: each of its zones adds its night fixes; a null zone none."""
    start = dt.datetime(2026, 3, 27, 17, tzinfo=UTC)
    positions = [{"agent": ("x", "y")[i % 2], "time": start + dt.timedelta(minutes=37 * i), "tool": "t",
                  "lat": 48.85 + (i % 3) / 1000, "lon": 2.35, "source_file": "f", "source_row": i}
                 for i in range(200)]
    tables = {"positions": pa.Table.from_pylist(positions, schema=_schema("positions")),
              "policy_params": pa.table({"tz": pa.array(zones, pa.string())})}
    assert_same(fixes.home_inference(tables), sql("home_inference", tables))


def test_empty_inputs_give_empty_tables_of_the_sql_types() -> None:
    tables = {kind: _schema(kind).empty_table() for kind in ("positions", "clock_events", "care_acts",
                                                            "activity_events")}
    with MetricRunner(tables) as runner:
        inputs = _inputs(runner, tables)
    for name in NAMES:
        got, expected = getattr(fixes, name)(inputs), sql(name, inputs)
        assert got.num_rows == expected.num_rows == 0
        assert got.schema == expected.schema


def test_medians_interpolate_as_duckdb() -> None:
    """DuckDB's median of two values is lo * 0.5 + hi * 0.5: (lo + hi) / 2 overflows, lo + (hi - lo) / 2 too
    at opposite extremes, and both differ on subnormals."""
    rows = [(1.7e308, 1.7e308), (-1.7e308, 1.7e308), (5e-324, 5e-324), (5e-324, 1.5e-323), (0.1, 0.7)]
    tables = {kind: _schema(kind).empty_table() for kind in ("clock_events", "care_acts", "activity_events")}
    positions = [{"agent": f"a{i}", "time": ANCHORS[0], "lat": 1.0, "lon": 1.0, "accuracy_m": value, "tool": "t",
                  "source_file": "f", "source_row": 1} for i, pair in enumerate(rows) for value in pair]
    tables["positions"] = pa.Table.from_pylist(positions, schema=_schema("positions"))
    assert_same(fixes.coord_precision(tables), sql("coord_precision", tables))


@pytest.fixture(scope="module")
def sample_runner() -> Any:
    with MetricRunner(api.load([SAMPLES]).tables) as runner:
        yield runner


@pytest.mark.parametrize("name", NAMES)
def test_sample_exports_give_what_the_runner_gives(sample_runner: MetricRunner, name: str) -> None:
    inputs = _inputs(sample_runner, {kind: sample_runner.con.sql(f"SELECT * FROM {kind}").to_arrow_table()
                                     for kind in ("positions", "clock_events", "care_acts", "activity_events")})
    expected = sample_runner.run(name)
    assert expected.num_rows > 0 or name == "home_inference"
    assert_same(getattr(fixes, name)(inputs), expected)
