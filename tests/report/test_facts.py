"""The personal report's figures computed on arrays (``facts.Moments`` and friends) are the figures of the
per-row definitions they replaced, kept here as the reference: same values, same ties, same floats."""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from auditor.report import facts
from auditor.report.facts import LOCAL


def _local_times(values: list[datetime | None]) -> list[datetime]:
    return sorted(v.astimezone(LOCAL) for v in values if v is not None)


def _resolution(times: list[datetime]) -> str:
    if any(t.microsecond for t in times):
        return "subsecond"
    return "seconds" if any(t.second for t in times) else "minutes"


def _outside_hours(times: list[datetime]) -> int:
    return sum(1 for t in times if t.weekday() >= 5 or not facts.DAY_START <= t.hour * 60 + t.minute < facts.DAY_END)


def _weekday_hour(times: list[datetime]) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for t in times:
        grid[t.weekday()][t.hour] += 1
    return grid


def _busiest_day(times: list[datetime]) -> str | None:
    counts = Counter(t.date().isoformat() for t in times)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0] if times else None


def _sampling_interval_s(times: list[datetime]) -> float | None:
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    kept = [g for g in gaps if 0 < g < 6 * 3600]
    return statistics.median(kept) if kept else None


def _home_cell(rows: list[dict[str, Any]]) -> tuple[float, float, int] | None:
    cells: Counter[tuple[float, float]] = Counter()
    for row in rows:
        t, lat, lon = row["time"], row["lat"], row["lon"]
        if t is None or lat is None or lon is None:
            continue
        hour = t.astimezone(LOCAL).hour
        if hour >= facts.NIGHT[0] or hour < facts.NIGHT[1]:
            cells[(round(lat / facts.HOME_CELL_DEG) * facts.HOME_CELL_DEG,
                   round(lon / facts.HOME_CELL_DEG) * facts.HOME_CELL_DEG)] += 1
    if not cells:
        return None
    (lat, lon), n = sorted(cells.items(), key=lambda item: (-item[1], item[0]))[0]
    return round(lat, 2), round(lon, 2), n


def _trail(rows: list[dict[str, Any]], day: str) -> list[tuple[float, float]]:
    fixes = [(r["time"], r["lat"], r["lon"]) for r in rows
             if r["time"] is not None and r["lat"] is not None and r["lon"] is not None
             and r["time"].astimezone(LOCAL).date().isoformat() == day]
    return [(lat, lon) for _, lat, lon in sorted(fixes, key=lambda r: r[0])]


def _pauses(rows: list[dict[str, Any]]) -> list[float]:
    pairs = sorted((r["start"].astimezone(LOCAL), r["end"].astimezone(LOCAL)) for r in rows
                   if r["start"] is not None and r["end"] is not None)
    return [(start - end).total_seconds() / 60 for (_, end), (start, _) in itertools.pairwise(pairs)
            if start.date() == end.date() and start > end]


def _positions(seed: int, n: int) -> pa.Table:
    """Fixes around the clock changes, at the same instants, with sub-seconds, missing values and ties."""
    rng = random.Random(seed)
    edges = [datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
             datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 6, 1, 20, 0, tzinfo=UTC)]
    times: list[datetime | None] = []
    for _ in range(n):
        base = rng.choice(edges) + timedelta(minutes=rng.randrange(-300, 300))
        times.append(None if rng.random() < 0.05 else base + timedelta(
            seconds=rng.choice([0, 0, rng.randrange(60)]), microseconds=rng.choice([0] * 9 + [rng.randrange(10**6)])))
    lat = [None if rng.random() < 0.05 else 48.85 + rng.choice([0.005, 0.015, rng.uniform(-0.05, 0.05)])
           for _ in range(n)]
    lon = [None if rng.random() < 0.05 else 2.35 + rng.uniform(-0.05, 0.05) for _ in range(n)]
    return pa.table({"time": pa.array(times, pa.timestamp("us", tz="UTC")), "lat": pa.array(lat, pa.float64()),
                     "lon": pa.array(lon, pa.float64()), "accuracy_m": pa.array(lon, pa.float64())})


@pytest.mark.parametrize(("seed", "n"), [(1, 1), (2, 2), (3, 40), (4, 500), (5, 3000)])
def test_moments_give_the_figures_of_the_list_of_datetimes(seed: int, n: int) -> None:
    table = _positions(seed, n)
    times = _local_times(table.column("time").to_pylist())
    moments = facts.Moments(table, "time")
    assert len(moments) == len(times)
    assert [moments.at(i) for i in range(len(moments))] == times
    assert [moments.at(i).isoformat() for i in range(len(moments))] == [t.isoformat() for t in times]
    if times:
        assert moments.resolution == _resolution(times)
    assert moments.outside_hours() == _outside_hours(times)
    assert moments.weekday_hour() == _weekday_hour(times)
    day = moments.busiest_day()
    assert day == _busiest_day(times)
    if day:
        in_day = [t for t in times if t.date().isoformat() == day]
        assert moments.on_day(day) == [t.replace(tzinfo=None) for t in in_day]
        rows = table.to_pylist()
        assert facts.Fixes(table).trail(day) == _trail(rows, day)
    assert moments.sampling_interval_s() == _sampling_interval_s(times)
    assert facts.Fixes(table).home_cell() == _home_cell(table.to_pylist())
    accuracy = [v for v in table.column("accuracy_m").to_pylist() if v is not None]
    assert facts.column_median(table, "accuracy_m") == (statistics.median(accuracy) if accuracy else None)


def test_moments_of_no_column_or_no_value() -> None:
    empty = facts.Moments(pa.table({"time": pa.array([None], pa.timestamp("us", tz="UTC"))}), "time")
    assert len(empty) == 0 and empty.busiest_day() is None and empty.sampling_interval_s() is None
    assert empty.weekday_hour() == [[0] * 24 for _ in range(7)] and empty.outside_hours() == 0
    assert len(facts.Moments(pa.table({"x": [1]}), None)) == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_appointment_pauses_and_durations_are_the_per_row_ones(seed: int) -> None:
    rng = random.Random(seed)
    day = datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
    starts = [None if rng.random() < 0.05 else day + timedelta(minutes=rng.randrange(0, 3000, 15)) for _ in range(300)]
    ends = [None if s is None or rng.random() < 0.05 else s + timedelta(minutes=rng.randrange(-10, 90), seconds=7)
            for s in starts]
    table = pa.table({"start": pa.array(starts, pa.timestamp("us", tz="UTC")),
                      "end": pa.array(ends, pa.timestamp("us", tz="UTC"))})
    rows = table.to_pylist()
    assert facts.appointment_pauses(table) == _pauses(rows)
    assert facts.durations_min(table, "start", "end") == [
        (r["end"] - r["start"]).total_seconds() / 60 for r in rows
        if r["start"] is not None and r["end"] is not None and r["end"] >= r["start"]]
    assert facts.appointment_pauses(table.drop_columns(["end"])) == []


def test_distinct_texts_and_groups() -> None:
    table = pa.table({"tool": ["b", "a", None, "b"], "domain": ["x.fr", "", None, "x.fr"]})
    assert facts.count_distinct_texts(table, "domain") == 1
    assert [(tool, rows.num_rows) for tool, rows in facts.groups(table)] == [("a", 1), ("b", 2)]


@pytest.mark.parametrize(("seed", "n", "count"), [(1, 1, 5), (2, 3, 5), (3, 40, 5), (4, 500, 5), (5, 60, 1)])
def test_earliest_rows_are_the_first_of_a_stable_sort(seed: int, n: int, count: int) -> None:
    """The personal report's example rows: the first places of ``pc.sort_indices`` (stable, missing values last),
    here with ties at the same instant and missing times."""
    table = _positions(seed, n)
    expected = pc.sort_indices(table, [("time", "ascending")])[:count].to_pylist()
    assert facts.earliest(facts.instants(table.column("time")), count).tolist() == expected


def test_earliest_rows_end_with_the_missing_times_in_row_order() -> None:
    moment = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    column = pa.array([None, moment, None, moment - timedelta(hours=1), None, moment], pa.timestamp("us", tz="UTC"))
    assert facts.earliest(facts.instants(column), 5).tolist() == [3, 1, 5, 0, 2]
    assert pc.sort_indices(column)[:5].to_pylist() == [3, 1, 5, 0, 2]
