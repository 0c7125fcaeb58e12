"""Metrics on hand-made canonical tables, with values worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.metrics import MetricRunner, metrics, run_metrics, views
from auditor.policy import parse_policy
from tests.rules.tables import tables


def rows(table: pa.Table, **match: Any) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if all(r.get(k) == v for k, v in match.items())]


def one(table: pa.Table, **match: Any) -> dict[str, Any]:
    found = rows(table, **match)
    assert len(found) == 1, found
    return found[0]


def test_every_sql_file_has_a_bilingual_header() -> None:
    assert len(metrics()) >= 18
    for spec in (*metrics().values(), *views()):
        assert spec.definition["fr"] and spec.definition["en"]


def test_schedule_slots_across_dst_and_holidays() -> None:
    data = tables({"positions": [
        # Sunday 29 March 2026, the spring clock change: 03:30 local is 01:30 UTC
        {"agent": "a", "time": "2026-03-29 03:30:00", "lat": 1.0, "lon": 1.0},
        {"agent": "a", "time": "2026-03-30 08:29:00", "lat": 1.0, "lon": 1.0},  # Monday before the shift
        {"agent": "a", "time": "2026-03-30 08:30:00", "lat": 1.0, "lon": 1.0},  # first shift minute
        {"agent": "a", "time": "2026-03-30 13:29:00", "lat": 1.0, "lon": 1.0},  # lunch break
        {"agent": "a", "time": "2026-03-30 17:30:00", "lat": 1.0, "lon": 1.0},  # shift over
        {"agent": "a", "time": "2026-04-06 10:00:00", "lat": 1.0, "lon": 1.0},  # Easter Monday
    ]})
    row = one(run_metrics(data)["time_windows"], agent="a")
    assert (row["n_in_shift"], row["n_off_hours"], row["n_in_break"], row["n_rest_day"], row["n_holiday"]) == (
        1, 2, 1, 1, 1)
    assert row["n_weekend"] == 1 and row["share_outside_work"] == pytest.approx(4 / 6)


def test_declared_groups_members_and_delegation() -> None:
    policy = parse_policy("""
groups:
  default: {days: [mon, tue, wed, thu, fri], hours: [{start: "08:30", end: "17:30"}]}
  weekend: {days: [sat, sun], hours: [{start: "10:00", end: "18:00"}]}
members: {w: weekend}
delegation: [{agent: d, date: "2026-03-03", start: "09:00", end: "12:00"}]
""")
    data = tables({"positions": [
        {"agent": "w", "time": "2026-03-07 11:00:00", "lat": 1.0, "lon": 1.0},  # Saturday: in shift for w
        {"agent": "a", "time": "2026-03-07 11:00:00", "lat": 1.0, "lon": 1.0},  # rest day for a
        {"agent": "d", "time": "2026-03-03 10:00:00", "lat": 1.0, "lon": 1.0},
        {"agent": "d", "time": "2026-03-10 10:00:00", "lat": 1.0, "lon": 1.0},  # a week later: not delegation
    ]})
    windows = run_metrics(data, policy)["time_windows"]
    assert one(windows, agent="w")["n_in_shift"] == 1
    assert one(windows, agent="a")["n_rest_day"] == 1
    assert one(windows, agent="d")["n_delegation"] == 1


def test_delegation_declared_for_the_person_or_the_identifier_by_weekday_or_date() -> None:
    policy = parse_policy("""
identity: [{person: Anne, ids: {gps: g1}}]
delegation:
  - {agent: Anne, weekday: mon, start: "14:00", end: "16:00"}
  - {agent: g1, weekday: mon, start: "15:00", end: "17:00"}
  - {agent: g1, date: "2026-03-03", start: "09:00", end: "10:00"}
  - {agent: Anne, date: "2026-03-04", start: "09:00", end: "10:00"}
""")
    data = tables({"positions": [
        {"agent": "g1", "time": "2026-03-02 14:30:00", "lat": 1.0, "lon": 1.0},  # Monday (local time): Anne's
        {"agent": "g1", "time": "2026-03-02 15:30:00", "lat": 1.0, "lon": 1.0},  # both declarations
        {"agent": "g1", "time": "2026-03-02 16:30:00", "lat": 1.0, "lon": 1.0},  # g1's
        {"agent": "g1", "time": "2026-03-02 17:30:00", "lat": 1.0, "lon": 1.0},  # neither
        {"agent": "g1", "time": "2026-03-03 09:30:00", "lat": 1.0, "lon": 1.0},  # Tuesday: g1's date
        {"agent": "g1", "time": "2026-03-04 09:30:00", "lat": 1.0, "lon": 1.0},  # Wednesday: Anne's date
        {"agent": "g1", "time": "2026-03-05 09:30:00", "lat": 1.0, "lon": 1.0},  # Thursday: neither
        {"agent": "g1", "time": "2026-03-09 13:30:00", "lat": 1.0, "lon": 1.0},  # next Monday, before both
    ]}, tool="gps")
    windows = run_metrics(data, policy)["time_windows"]
    assert one(windows, agent="g1")["n_delegation"] == 5


def test_gaps_skip_breaks_and_count_bands() -> None:
    data = tables({"queue_tickets": [
        {"ticket": "1", "agent": "a", "called_at": "2026-03-02 09:00:00", "served_end": "2026-03-02 09:10:00"},
        {"ticket": "2", "agent": "a", "called_at": "2026-03-02 09:15:00", "served_end": "2026-03-02 09:20:00"},  # 5
        {"ticket": "3", "agent": "a", "called_at": "2026-03-02 09:50:00", "served_end": "2026-03-02 11:55:00"},  # 30
        {"ticket": "4", "agent": "a", "called_at": "2026-03-02 13:40:00", "served_end": "2026-03-02 13:45:00"},  # lunch
        {"ticket": "5", "agent": "a", "called_at": "2026-03-02 13:45:30", "served_end": "2026-03-02 13:50:00"},  # 0.5
    ]})
    row = one(run_metrics(data)["gaps"], agent="a")
    assert (row["n_gaps_1_10"], row["n_gaps_10_plus"]) == (1, 1)
    assert row["minutes_gaps_1_10"] == 5 and row["minutes_gaps_10_plus"] == 30


def test_service_time_resolution_and_counts() -> None:
    data = tables({"queue_tickets": [
        {"ticket": "1", "agent": "a", "called_at": "2026-03-02 09:00:00", "served_start": "2026-03-02 09:01:00",
         "served_end": "2026-03-02 09:11:00"},
        {"ticket": "2", "agent": "a", "called_at": "2026-03-02 09:20:07", "served_end": "2026-03-02 09:40:07"},
        {"ticket": "3", "agent": "a", "called_at": "2026-03-03 10:00:00", "served_end": "2026-03-03 10:30:00"},
    ]})
    results = run_metrics(data)
    service = one(results["service_time"], agent="a")
    assert service["n_served"] == 3 and service["median_service_s"] == 1200
    resolution = one(results["timestamp_resolution"], agent="a")
    assert resolution["resolution_s"] == 1 and resolution["share_with_seconds"] == pytest.approx(1 / 3)
    counts = one(results["activity_counts"], agent="a")
    assert (counts["max_per_hour"], counts["max_per_day"], counts["active_days"]) == (2, 2, 2)


def test_coordinates_urls_and_field_inventory() -> None:
    data = tables({
        "positions": [{"agent": "a", "time": "2026-03-02 10:00:00", "lat": 48.8534, "lon": 2.35, "accuracy_m": 5.0},
                      {"agent": "a", "time": "2026-03-02 10:01:00", "lat": 48.853412, "lon": 2.3488121}],
        "web_requests": [
            {"agent": "a", "time": "2026-03-02 10:00:00", "url": "https://www.indeed.fr/jobs?q=social",
             "domain": "www.indeed.fr"},
            {"agent": "a", "time": "2026-03-02 10:01:00", "url": "http://example.fr/", "domain": "example.fr"},
            {"agent": "a", "time": "2026-03-02 10:02:00", "url": "example.fr:443", "domain": "example.fr"},
            {"agent": "a", "time": "2026-03-02 10:03:00", "url": "example.fr/page", "domain": "example.fr"},
        ],
    })
    results = run_metrics(data)
    coords = one(results["coord_precision"], agent="a")
    assert coords["max_decimals"] == 7 and coords["share_5_decimals_plus"] == 0.5 and coords["median_accuracy_m"] == 5
    web = one(results["web_urls"], agent="a")
    assert (web["n_full_url"], web["distinct_domains"], web["n_sensitive"]) == (2, 2, 1)
    assert web["sensitive_lexicons"] == ["job_search"]
    inventory = {r["field"]: r for r in rows(results["field_inventory"], kind="positions")}
    assert inventory["accuracy_m"]["n_non_null"] == 1 and inventory["speed_mps"]["n_non_null"] == 0
    assert inventory["lat"]["sensitivity"] == "location" and inventory["lat"]["n_agents"] == 1


def test_linkage_coverage_and_identity_map() -> None:
    policy = parse_policy("identity: [{person: P, ids: {gps: g1, '*': b1}}]")
    data = {
        **tables({"positions": [{"agent": "g1", "time": "2026-03-02 08:30:00", "lat": 1.0, "lon": 1.0}]}, tool="gps"),
        **tables({"clock_events": [{"agent": "b1", "time": "2026-03-02 17:00:00", "direction": "out"}]}, tool="badge"),
    }
    row = one(run_metrics(data, policy)["linkage"], agent="P")
    assert row["n_tools"] == 2 and row["identifiers"] == ["b1", "g1"]
    # 08:30 covers 08:30–08:45 (16 minutes); 17:00 covers 16:45–17:15 (31 minutes) of a 450-minute day
    assert row["shift_minutes"] == 450 and row["covered_minutes"] == 16 + 31


def test_home_inference_and_tracking_controls() -> None:
    data = tables({"positions": [
        {"agent": "a", "time": "2026-03-02 23:00:00", "lat": 48.86012, "lon": 2.34011, "speed_mps": 20.0},
        {"agent": "a", "time": "2026-03-03 02:00:00", "lat": 48.86019, "lon": 2.34015},
        {"agent": "a", "time": "2026-03-03 23:00:00", "lat": 48.86013, "lon": 2.34012, "activity": "GPS off"},
        {"agent": "a", "time": "2026-03-04 12:00:00", "lat": 45.0, "lon": 3.0},
    ]})
    results = run_metrics(data)
    home = one(results["home_inference"], agent="a")
    assert (home["night_fixes"], home["nights"], home["top_cell_nights"], home["top_cell_share"]) == (3, 2, 2, 1.0)
    controls = one(results["tracking_controls"], agent="a")
    assert controls["toggle_events"] == 1 and controls["max_speed_kmh"] == pytest.approx(72.0)


def test_parquet_workspace_gives_the_same_results(tmp_path: Path) -> None:
    data = tables({"positions": [
        {"agent": "a", "time": f"2026-03-02 09:{m:02d}:00", "lat": 48.85, "lon": 2.35} for m in range(0, 50, 7)]})
    pq.write_table(data["positions"], tmp_path / "positions.parquet")
    with MetricRunner(parquet_dir=tmp_path) as runner:
        from_parquet = runner.run("sampling_interval")
    assert from_parquet.to_pylist() == run_metrics(data)["sampling_interval"].to_pylist()


def test_empty_dataset_runs_every_metric() -> None:
    results = run_metrics({})
    assert all(t.num_rows == 0 for name, t in results.items() if name != "capability_gaps")


@settings(max_examples=40, deadline=None)
@given(marks=st.lists(st.integers(min_value=0, max_value=24 * 60 - 1), min_size=1, max_size=12))
def test_linkage_coverage_matches_its_definition_minute_by_minute(marks: list[int]) -> None:
    """Coverage is computed on intervals; the definition is per minute: a shift minute is covered when
    a record lies within 15 minutes of it. Overlapping hours and breaks, on Monday 2 March 2026."""
    policy = parse_policy('groups: {default: {days: [mon], hours: [{start: "08:00", end: "12:00"}, '
                          '{start: "11:00", end: "17:30"}], breaks: [{start: "12:00", end: "13:30"}, '
                          '{start: "12:30", end: "12:45"}]}}')
    rows = [{"agent": "a", "time": f"2026-03-02 {m // 60:02d}:{m % 60:02d}:00", "lat": 1.0, "lon": 1.0}
            for m in marks]  # times of the test tables are read as the policy's wall clock
    row = one(run_metrics(tables({"positions": rows}), policy)["linkage"], agent="a")
    local = set(marks)
    shift = [m for start, end in ((480, 720), (660, 1050)) for m in range(start, end) if not 720 <= m < 810]
    assert row["shift_minutes"] == len(shift)
    assert row["covered_minutes"] == sum(1 for m in shift if any(abs(m - k) <= 15 for k in local))
