"""The benchmarks' DuckDB baselines (``benchmarks/tasks.py``) compute what they claim, on each scale export: one
row per agent, every record counted, and (the windowed one) the same sampling interval as the audit's metric for
positions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from auditor import api
from auditor.rules.engine import audit
from auditor.synth import scale
from benchmarks.tasks import DUCKDB_METRIC, DUCKDB_WINDOW

ROWS = 3000


def _query(sql: str, path: Path) -> list[dict[str, object]]:
    with duckdb.connect(":memory:") as con:
        rows: list[dict[str, object]] = con.sql(sql, params={"path": str(path)}).to_arrow_table().to_pylist()
    return rows


@pytest.mark.parametrize("fmt", sorted(scale.LAYOUTS))
def test_each_baseline_counts_every_record_once_per_agent(fmt: str, tmp_path: Path) -> None:
    path = scale.write(fmt, ROWS, tmp_path, agents=40, seed=3)
    agents = set(api.load([path]).agents())
    for sql in (DUCKDB_METRIC[fmt], DUCKDB_WINDOW[fmt]):
        rows = _query(sql, path)
        assert {row["agent"] for row in rows} - {None} == agents  # a queue ticket no agent called: no agent
        assert sum(int(str(row["n"])) for row in rows) == ROWS


def test_the_windowed_baseline_is_the_audit_s_sampling_interval(tmp_path: Path) -> None:
    path = scale.write("positions-csv", ROWS, tmp_path, agents=40, seed=3)
    measured = audit(api.load([path])).metrics["sampling_interval"].to_pylist()
    ours = {row["agent"]: row["median_interval_s"] for row in measured}
    theirs = {row["agent"]: row["interval"] for row in _query(DUCKDB_WINDOW["positions-csv"], path)}
    assert theirs == pytest.approx(ours)
