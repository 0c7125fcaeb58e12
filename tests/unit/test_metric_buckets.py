"""Out of core, per-person metrics run bucket by bucket: the results must equal one pass over everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from auditor import api
from auditor.i18n import t
from auditor.metrics import runner
from auditor.policy import parse_policy
from auditor.rules.engine import audit
from auditor.synth import write_exports
from auditor.synth.world import World


def _rounded(value: Any) -> Any:
    """Sums of floats differ in their last bits with the order rows are added in (threads do that too)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _rows(table: Any) -> list[str]:
    return sorted(repr(sorted(_rounded(row).items())) for row in table.to_pylist())


@pytest.fixture(scope="module")
def world_exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("world")
    world = World(seed=11)
    write_exports(out / "exports", world)
    policy = parse_policy(yaml.safe_dump(world.policy(), allow_unicode=True))
    return out / "exports", policy


@pytest.mark.parametrize("workers", [1, 2])
def test_buckets_give_the_same_metrics_and_findings(world_exports: tuple[Path, Any], workers: int,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Buckets measured one after the other, or two at a time on two databases."""
    exports, policy = world_exports
    whole = audit(api.load([exports]), policy)
    monkeypatch.setattr(runner, "BUCKET_ROWS", 500)  # the demo world's ~30 k rows in ~60 buckets
    monkeypatch.setattr(runner, "BUCKET_WORKERS", workers)
    dataset = api.load([exports], api.ReadOptions(large_input_bytes=0))
    assert dataset.workspace is not None
    seen: list[int] = []
    original = runner.MetricRunner._run_bucketed

    def counting(self: runner.MetricRunner, names: list[str]) -> None:
        seen.append(self.buckets)
        original(self, names)

    monkeypatch.setattr(runner.MetricRunner, "_run_bucketed", counting)
    said: list[str] = []
    bucketed = audit(dataset, policy, progress=said.append)
    assert seen and seen[0] > 10
    first_bucket = t("progress.bucket", None, bucket=1, buckets=seen[0], name="")
    said_first = next(i for i, text in enumerate(said) if text.startswith(first_bucket))
    assert said.index(t("progress.partition", None, buckets=seen[0])) < said_first  # each long step is named
    assert sorted(bucketed.metrics) == sorted(whole.metrics)
    for name, table in whole.metrics.items():
        assert _rows(bucketed.metrics[name]) == _rows(table), name
    assert _rounded(bucketed.to_dict()) == _rounded(whole.to_dict())


@pytest.mark.parametrize(("setting", "expected"), [("512MB", 512 * 10**6), ("1GiB", 2**30), (" 1.5 GB ", 15 * 10**8)])
def test_memory_limit_setting_sets_duckdb_and_the_buckets(setting: str, expected: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_MEMORY_LIMIT", setting)
    assert runner.memory_limit_bytes() == expected
    assert runner.bucket_rows() == expected // runner.BYTES_PER_BUCKET_ROW // runner.BUCKET_WORKERS
    with runner.MetricRunner() as metrics:
        setting_read = metrics.con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert setting_read.split()[1] in ("MiB", "GiB") and float(setting_read.split()[0]) > 0


@pytest.mark.parametrize("setting", ["lots", "12", "1MB", "3 parsecs"])
def test_an_unreadable_memory_limit_is_a_usage_error(setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.errors import UsageError

    monkeypatch.setenv("AUDITOR_MEMORY_LIMIT", setting)
    with pytest.raises(UsageError) as raised:
        runner.memory_limit_bytes()
    assert raised.value.code == "memory-limit-invalid"


def test_default_memory_limit_is_a_share_of_the_machine_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_MEMORY_LIMIT", raising=False)
    assert 2**27 <= runner.memory_limit_bytes() <= runner.MEMORY_CAP_MB << 20


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["x", "y", "z", "w", None])),
                max_size=30), st.booleans())
def test_a_rows_bucket_is_its_identitys(pairs: list[tuple[str | None, str | None]], many_tools: bool) -> None:
    """Each row's bucket is the one of its (tool, agent), whether looked up in a table or after a sort (many
    distinct tools), and an identifier the identities do not know, or a null one, goes to nobody's bucket."""
    if many_tools:  # more (tool, agent) combinations than four per row: the sorted path
        pairs = [(f"{tool}{index}" if tool else None, agent) for index, (tool, agent) in enumerate(pairs)]
    known = {pair: index % 5 for index, pair in enumerate(sorted(set(pairs), key=repr)) if pair[1] not in (None, "w")}
    batch = pa.RecordBatch.from_pydict({"tool": [p[0] for p in pairs], "agent": [p[1] for p in pairs]})
    found = runner._row_buckets(batch, known, 7).tolist()
    assert found == [known.get(pair, 7) for pair in pairs]
