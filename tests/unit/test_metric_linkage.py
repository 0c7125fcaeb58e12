"""The numpy ``linkage`` (``metrics.linkage``) returns what ``linkage.sql`` returns in DuckDB."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api
from auditor.metrics import linkage
from auditor.metrics.runner import MetricRunner
from auditor.metrics.sequence import marks_of
from auditor.policy import parse_policy
from auditor.synth.world import World
from tests.conftest import SAMPLES
from tests.unit.test_metric_per_agent import PLACED, completed, placed, sql
from tests.unit.test_samples import SAMPLE_DAYS

#: Identifiers of one person (x and y are P's), of themselves, or of nobody.
PERSONS = {"x": "P", "y": "P", "z": "z", None: None}


def holidays(days: list[dt.date]) -> pa.Table:
    return pa.table({"day": pa.array(days, pa.date32()), "name": pa.array(["h"] * len(days), pa.string())})


def segments(rows: list[tuple[str | None, int, int, int]]) -> pa.Table:
    return pa.table({"grp": pa.array([r[0] for r in rows], pa.string()),
                     "isodow": pa.array([r[1] for r in rows], pa.int32()),
                     "seg_start": pa.array([r[2] for r in rows], pa.int64()),
                     "seg_end": pa.array([r[3] for r in rows], pa.int64())})


@st.composite
def declared(draw: st.DrawFn, events: pa.Table) -> pa.Table:
    """Shift segments of a few groups and weekdays, some overlapping, some of a group no event has; most on a
    (group, weekday) of the events, so that marks fall in them."""
    seen = sorted({(row["grp"], row["isodow"]) for row in events.select(["grp", "isodow"]).to_pylist()},
                  key=repr)
    anywhere = st.tuples(st.sampled_from(["g1", "g2", "g3", None]), st.integers(1, 7))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        grp, isodow = draw(st.one_of(st.sampled_from(seen), anywhere) if seen else anywhere)
        start = draw(st.integers(0, 1439))
        rows.append((grp, isodow, start, min(1440, start + draw(st.integers(1, 600)))))
    return segments(rows)


def sorted_rows(table: pa.Table) -> list[dict[str, object]]:
    return sorted(table.to_pylist(), key=lambda row: repr(row["agent"]))


def assert_same(got: pa.Table, expected: pa.Table) -> None:
    """Same columns and types, same rows in any order, every value exact (repr: ints against floats, NaN)."""
    assert got.schema == expected.schema
    assert repr(sorted_rows(got)) == repr(sorted_rows(expected))


def with_persons(table: pa.Table) -> pa.Table:
    person = pa.array([PERSONS[a] for a in table.column("agent").to_pylist()], pa.string())
    return table.set_column(table.schema.get_field_index("person"), "person", person)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from([1 << 20, 7]), st.booleans(), st.booleans())
def test_linkage_equals_the_sql(data: st.DataObject, chunk: int, searched: bool, plain: bool) -> None:
    """Marks in batches or whole, their persons as codes or as text; their (person, day) looked up in a table, or
    searched (as past millions)."""
    events = completed(with_persons(data.draw(placed())), chunk)
    whole = marks_of(events)
    if plain:
        whole = whole.set_column(0, "person", whole.column("person").cast(pa.string()))
    marks = pa.Table.from_batches(whole.to_batches(max_chunksize=chunk), schema=whole.schema)
    days = sorted(set(events.column("local_day").to_pylist()))
    holiday = holidays(data.draw(st.lists(st.sampled_from(days), max_size=2)) if days else [])
    shift = data.draw(declared(events))
    with pytest.MonkeyPatch.context() as patch:
        if searched:
            patch.setattr(linkage, "DENSE_PERSON_DAYS", 0)
            patch.setattr(linkage, "KEYS_PER_PERSON_DAY", 0)
        got = linkage.linkage(events, marks, shift, holiday)
    assert_same(got, sql("linkage", events, marks=marks, shift_segments=shift, policy_holidays=holiday))


def test_no_event_gives_no_row_of_the_same_types() -> None:
    events = completed(with_persons(PLACED.empty_table()), 1 << 20)
    got = linkage.linkage(events, marks_of(events), segments([("g1", 1, 480, 720)]), holidays([]))
    assert_same(got, sql("linkage", events, marks=marks_of(events), shift_segments=segments([("g1", 1, 480, 720)]),
                         policy_holidays=holidays([])))
    assert got.num_rows == 0


def test_the_demo_world_gives_the_same_results() -> None:
    """The sample exports under the demo world's declaration: real events, marks, segments and holidays."""
    policy = parse_policy(yaml.safe_dump(World(days=SAMPLE_DAYS).policy(), allow_unicode=True))
    with MetricRunner(api.load([SAMPLES]).tables, policy) as runner:
        tables = {name: runner.con.sql(f"SELECT * FROM {name}").to_arrow_table()
                  for name in ("events", "marks", "shift_segments", "policy_holidays")}
        expected = runner.run("linkage")
    assert tables["events"].num_rows > 1000 and tables["shift_segments"].num_rows > 0
    got = linkage.linkage(tables["events"], tables["marks"], tables["shift_segments"], tables["policy_holidays"])
    assert_same(got, sql("linkage", tables["events"], **{k: v for k, v in tables.items() if k != "events"}))
    assert_same(got, expected)
    assert pc.sum(got.column("covered_minutes")).as_py() > 0
