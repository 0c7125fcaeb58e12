"""Metrics on synthetic datasets agree with an independent pandas computation (default policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import schemas
from auditor.metrics import MetricRunner
from auditor.policy import french_holidays

PARIS = ZoneInfo("Europe/Paris")
#: A window that holds the spring clock change (29 March) and Easter Monday (6 April 2026).
START = datetime(2026, 3, 26, tzinfo=UTC)
SPAN_S = 14 * 86400
SHIFT, BREAK = (510, 1050), (720, 810)  # the documented default policy, in minutes
METRICS = ["retention", "time_windows", "sampling_interval", "activity_counts", "coord_precision", "gaps"]


def near_edges() -> st.SearchStrategy[int]:
    """Seconds after START that fall within minutes of a shift or break edge, in Paris local time."""
    edges = st.sampled_from([SHIFT[0], SHIFT[1], BREAK[0], BREAK[1]])
    return st.builds(
        lambda day, edge, jitter: int(
            (datetime(2026, 3, 26, tzinfo=PARIS) + timedelta(days=day, minutes=edge, seconds=jitter) - START)
            .total_seconds()
        ),
        st.integers(0, 13), edges, st.integers(-400, 400),
    )


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, pa.Table]:
    rows = draw(st.lists(
        st.tuples(
            st.sampled_from(["positions", "case_actions"]),
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, SPAN_S) | st.integers(0, 3 * 3600).map(lambda s: 86400 * 4 + 8 * 3600 + s) | near_edges(),
            st.sampled_from([0, 1, 1000, 250_000]),
            st.integers(0, 7),
            st.floats(-80, 80, allow_nan=False),
        ),
        min_size=1, max_size=60,
    ))
    by_kind: dict[str, dict[str, list[Any]]] = {}
    for number, (kind, agent, seconds, micros, decimals, coordinate) in enumerate(rows, start=1):
        columns = by_kind.setdefault(kind, {n: [] for n in schemas.get(kind).names})
        values = {"agent": agent, "time": START + timedelta(seconds=seconds, microseconds=micros),
                  "tool": f"tool-{kind[:3]}", "source_file": "synthetic", "source_row": number}
        if kind == "positions":
            values |= {"lat": round(coordinate, decimals), "lon": round(coordinate / 2, decimals)}
        else:
            values |= {"action": "note"}
        for name in columns:
            columns[name].append(values.get(name))
    return {k: pa.Table.from_pydict(v, schema=schemas.get(k).arrow) for k, v in by_kind.items()}


def events(data: dict[str, pa.Table]) -> pd.DataFrame:
    frames = []
    for kind, table in data.items():
        frame = table.select(["tool", "agent", "time"]).to_pandas()
        frame["kind"] = kind
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    local = df["time"].dt.tz_convert("Europe/Paris")
    df["day"] = local.dt.date
    df["hour"] = local.dt.floor("h").dt.tz_localize(None)
    midnight = local.dt.normalize()
    df["minute"] = (local - midnight).dt.total_seconds() / 60
    df["isodow"] = local.dt.isocalendar().day.astype(int)
    holidays = set(french_holidays(2026))
    df["slot"] = [
        "holiday" if d in holidays else "rest_day" if w >= 6 else "break" if BREAK[0] <= m < BREAK[1]
        else "off_hours" if not SHIFT[0] <= m < SHIFT[1] else "shift"
        for d, w, m in zip(df["day"], df["isodow"], df["minute"], strict=True)
    ]
    return df


def decimals(x: float) -> int:
    for k in range(8):
        if abs(x * 10.0**k - np.round(x * 10.0**k)) < 1e-6:
            return k
    return 8


def by_key(table: pa.Table, keys: tuple[str, ...] = ("kind", "tool", "agent")) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


@settings(max_examples=12, deadline=None)
@given(datasets())
def test_metrics_match_pandas(data: dict[str, pa.Table]) -> None:
    with MetricRunner(data) as runner:
        results = runner.run_all(METRICS)
    df = events(data)
    groups = df.sort_values("time", kind="stable").groupby(["kind", "tool", "agent"])

    retention = by_key(results["retention"])
    windows = by_key(results["time_windows"])
    counts = by_key(results["activity_counts"])
    sampling = by_key(results["sampling_interval"])
    gaps = by_key(results["gaps"])
    assert set(retention) == set(groups.groups)
    for key, group in groups:
        assert retention[key]["n_records"] == len(group)
        span = (group["time"].max() - group["time"].min()).total_seconds() / 86400
        assert retention[key]["span_days"] == pytest.approx(span)
        slots = group["slot"].value_counts()
        assert windows[key]["n_in_shift"] == slots.get("shift", 0)
        assert windows[key]["n_in_break"] == slots.get("break", 0)
        assert windows[key]["n_holiday"] == slots.get("holiday", 0)
        assert windows[key]["n_outside_work"] == sum(slots.get(s, 0) for s in ("off_hours", "rest_day", "holiday"))
        assert counts[key]["max_per_hour"] == group.groupby("hour").size().max()
        assert counts[key]["max_per_day"] == group.groupby("day").size().max()
        intervals = group.groupby("day")["time"].diff().dropna().dt.total_seconds()
        if len(intervals):
            assert sampling[key]["median_interval_s"] == pytest.approx(intervals.quantile(0.5))
            assert sampling[key]["p10_interval_s"] == pytest.approx(intervals.quantile(0.1))
        else:
            assert key not in sampling
        short = long = 0
        for _, day in group.groupby("day"):
            previous = None
            for _, event in day.iterrows():
                if previous is not None and event["slot"] == "shift" and previous["slot"] == "shift" and not (
                        previous["minute"] <= BREAK[0] < event["minute"]):
                    gap = (event["time"] - previous["time"]).total_seconds() / 60
                    short += 1 <= gap < 10
                    long += gap >= 10
                previous = event
        assert (gaps[key]["n_gaps_1_10"], gaps[key]["n_gaps_10_plus"]) == (short, long)

    if "positions" in data:
        precision = by_key(results["coord_precision"])
        positions = data["positions"].to_pandas()
        for (tool, agent), group in positions.groupby(["tool", "agent"]):
            expected = max(max(decimals(a), decimals(b)) for a, b in zip(group["lat"], group["lon"], strict=True))
            assert precision[("positions", tool, agent)]["max_decimals"] == expected
