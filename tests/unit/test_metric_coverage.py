"""The ``linkage`` metric computed in numpy (``metrics.coverage``) equals its SQL definition run by DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api
from auditor.metrics import coverage
from auditor.metrics.catalog import metrics
from auditor.metrics.runner import MetricRunner, _strip_header
from auditor.metrics.sequence import marks_of
from auditor.policy import parse_policy
from auditor.synth.world import World

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"
MONDAY = dt.date(2026, 3, 23)
_EVENTS = pa.schema([pa.field(name, kind) for name, kind in (
    ("kind", pa.string()), ("tool", pa.string()), ("agent", pa.string()), ("person", pa.string()),
    ("local_day", pa.date32()), ("isodow", pa.int64()), ("minute", pa.float64()), ("grp", pa.string()))])


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, pa.Table]:
    """Events of a few persons over a week (identifiers of one person in different groups, a null agent and
    person), declared segments (some overlapping, one group without any), holidays."""
    rows = []
    for _ in range(draw(st.integers(0, 50))):
        agent = draw(st.sampled_from(["x", "y", "z", "w", None]))
        person = {"x": "P", "y": "P", "z": "z", "w": "w", None: None}[agent]
        day = MONDAY + dt.timedelta(days=draw(st.integers(0, 8)))
        rows.append({"kind": draw(st.sampled_from(["positions", "care_acts"])),
                     "tool": draw(st.sampled_from(["a", "b"])), "agent": agent, "person": person,
                     "local_day": day, "isodow": day.isoweekday(),
                     "minute": draw(st.sampled_from([0.0, 479.5, 480.0, 500.25, 530.0, 700.0, 730.0, 1439.9]))
                     + draw(st.integers(0, 30)),
                     "grp": draw(st.sampled_from(["g1", "g2", "none", None]))})
    segments = draw(st.lists(st.tuples(st.sampled_from(["g1", "g2", "g3"]), st.integers(1, 7), st.integers(0, 1400),
                                       st.integers(1, 300)), max_size=8))
    holidays = draw(st.lists(st.integers(0, 8), max_size=2))
    return {
        "events": pa.Table.from_pylist(rows, schema=_EVENTS),
        "shift_segments": pa.table({
            "grp": pa.array([s[0] for s in segments], pa.string()),
            "isodow": pa.array([s[1] for s in segments], pa.int64()),
            "seg_start": pa.array([s[2] for s in segments], pa.int64()),
            "seg_end": pa.array([s[2] + s[3] for s in segments], pa.int64())}),
        "policy_holidays": pa.table({"day": pa.array([MONDAY + dt.timedelta(days=d) for d in holidays], pa.date32())}),
    }


def _sql(tables: dict[str, pa.Table]) -> pa.Table:
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register(name, table)
    result: pa.Table = con.sql(_strip_header(metrics()["linkage"].sql)).to_arrow_table()
    return result


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _check(tables: dict[str, pa.Table]) -> pa.Table:
    tables = {**tables, "marks": marks_of(tables["events"])}
    expected = _sql(tables)
    got = coverage.linkage(tables["events"], tables["marks"], tables["shift_segments"], tables["policy_holidays"])
    assert got.schema == expected.schema
    assert _rows(got) == _rows(expected)
    return got


@settings(max_examples=150, deadline=None)
@given(inputs())
def test_linkage_equals_the_sql(tables: dict[str, pa.Table]) -> None:
    _check(tables)


def test_linkage_of_the_demo_world_equals_the_sql() -> None:
    """The sample exports under the demo world's declaration: real events, marks and segments."""
    policy = parse_policy(yaml.safe_dump(World(days=14).policy(), allow_unicode=True))
    with MetricRunner(api.load([SAMPLES]).tables, policy) as runner:
        tables = {name: runner.con.sql(f"SELECT * FROM {name}").to_arrow_table()
                  for name in ("events", "shift_segments", "policy_holidays")}
    got = _check(tables)
    assert got.num_rows >= 5 and max(v or 0 for v in got.column("covered_minutes").to_pylist()) > 0
