"""The benchmarks' DuckDB baselines (``benchmarks/tasks.py``) compute what they claim, on each scale export: one
row per agent, every record counted, and (the windowed one) the same sampling interval as the audit's metric for
positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor import api
from auditor.rules.engine import audit
from auditor.synth import scale
from benchmarks.tasks import DUCKDB_METRIC, DUCKDB_WINDOW, auditor_phases, duckdb_query

ROWS = 3000


@pytest.mark.parametrize("fmt", sorted(scale.LAYOUTS))
def test_each_baseline_counts_every_record_once_per_agent(fmt: str, tmp_path: Path) -> None:
    path = scale.write(fmt, ROWS, tmp_path, agents=40, seed=3)
    agents = set(api.load([path]).agents())
    for queries in (DUCKDB_METRIC, DUCKDB_WINDOW):
        rows = duckdb_query(queries, fmt, path).to_pylist()
        assert {row["agent"] for row in rows} - {None} == agents  # a queue ticket no agent called: no agent
        assert sum(int(str(row["n"])) for row in rows) == ROWS


def test_the_windowed_baseline_is_the_audit_s_sampling_interval(tmp_path: Path) -> None:
    path = scale.write("positions-csv", ROWS, tmp_path, agents=40, seed=3)
    measured = audit(api.load([path])).metrics["sampling_interval"].to_pylist()
    ours = {row["agent"]: row["median_interval_s"] for row in measured}
    theirs = {row["agent"]: row["interval"] for row in duckdb_query(DUCKDB_WINDOW, "positions-csv", path).to_pylist()}
    assert theirs == pytest.approx(ours)


def test_the_phases_task_times_each_step_of_the_audit_command(tmp_path: Path) -> None:
    path = scale.write("positions-csv", ROWS, tmp_path, agents=40, seed=3)
    phases = auditor_phases("positions-csv", path, tmp_path / "out")
    assert list(phases) == ["read", "metrics and rules", "people", "reports"]
    assert all(spent["seconds"] > 0 and spent["cpu"] > 0 for spent in phases.values())
    assert (tmp_path / "out" / "findings.json").exists()
    assert len(list((tmp_path / "out" / "agents").glob("*/report.json"))) == 40
