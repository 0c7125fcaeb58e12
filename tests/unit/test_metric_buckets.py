"""Out of core, per-person metrics run bucket by bucket: the results must equal one pass over everything."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api, schemas
from auditor.i18n import t
from auditor.io.parts import MAX_PARTS, Layout
from auditor.metrics import runner, text_values
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


@pytest.mark.parametrize(("workers", "fork"), [(1, True), (2, True), (2, False)])
@pytest.mark.parametrize("split_at_read", [True, False])
def test_buckets_give_the_same_metrics_and_findings(world_exports: tuple[Path, Any], workers: int, fork: bool,
                                                     split_at_read: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets measured one after the other, or two at a time on two databases (forked processes, or threads
    where fork does not exist); made of the parts the read wrote, or (a workspace without them) partitioned by
    the audit."""
    exports, policy = world_exports
    whole = audit(api.load([exports]), policy)
    monkeypatch.setattr(runner, "BUCKET_ROWS", 500)  # the demo world's ~30 k rows: a bucket per person or more
    monkeypatch.setattr(runner, "BUCKET_WORKERS", workers)
    if not fork:
        monkeypatch.setattr(runner.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    dataset = api.load([exports], api.ReadOptions(large_input_bytes=0))
    assert dataset.workspace is not None
    assert (dataset.workspace / "parts" / "layout.json").exists()
    if not split_at_read:
        shutil.rmtree(dataset.workspace / "parts")
    seen: list[int] = []
    original = runner.MetricRunner._run_bucketed

    def counting(self: runner.MetricRunner, names: list[str]) -> None:
        seen.append(self.buckets)
        original(self, names)

    monkeypatch.setattr(runner.MetricRunner, "_run_bucketed", counting)
    said: list[str] = []
    bucketed = audit(dataset, policy, progress=said.append)
    assert seen and seen[0] >= 3
    first_bucket = (t("progress.bucket", None, bucket=1, buckets=seen[0], name="") if workers == 1
                    else t("progress.buckets_done", None, done=0, buckets=seen[0]))
    said_first = next(i for i, text in enumerate(said) if text.startswith(first_bucket))
    partitions = {t("progress.partition", None, parts=parts) for parts in range(1, MAX_PARTS + 1)}
    partitioned = [index for index, text in enumerate(said) if text in partitions]
    assert partitioned == ([] if split_at_read else [partitioned[0]])
    assert all(index < said_first for index in partitioned)  # each long step is named
    assert (dataset.workspace / "parts" / "layout.json").exists()  # split in place: the reports read the same parts
    assert sorted(bucketed.metrics) == sorted(whole.metrics)
    for name, table in whole.metrics.items():
        assert _rows(bucketed.metrics[name]) == _rows(table), name
    assert _rounded(bucketed.to_dict()) == _rounded(whole.to_dict())
    assert not runner._WORKING and not runner._WORKER_DATABASES  # nothing left open or held


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


def test_parts_larger_than_a_bucket_are_split_finer_with_the_same_results(
        world_exports: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_PARTS the read's parts grow with the input; the audit then splits them finer, so that a bucket
    stays the size the memory setting gives (here: tiny buckets against the demo world's 128 parts)."""
    exports, policy = world_exports
    whole = audit(api.load([exports]), policy)
    monkeypatch.setattr(runner, "BUCKET_ROWS", 60)
    dataset = api.load([exports], api.ReadOptions(large_input_bytes=0))
    memory = api.load([exports])
    kind = max(memory.kinds(), key=memory.rows_in)
    before = dataset.rows_of(kind, memory.agents()[:1])  # a per-agent index opened on the read's parts, in use
    assert dataset.workspace is not None
    parts_on_disk: list[list[str]] = []  # the workspace's part folders while the finer parts are written
    original_split = runner.split_file

    def watched(source: Path, folder: Path, parts: int) -> list[int]:
        assert dataset.workspace is not None
        parts_on_disk.append(sorted(p.name for p in dataset.workspace.iterdir() if "parts" in p.name))
        return original_split(source, folder, parts)

    monkeypatch.setattr(runner, "split_file", watched)
    said: list[str] = []
    bucketed = audit(dataset, policy, progress=said.append)
    assert parts_on_disk and all(names == [".parts.new"] for names in parts_on_disk)  # one set of parts on disk
    partitions = {t("progress.partition", None, parts=n): n for n in range(1, runner.MAX_SPLIT_PARTS + 1)}
    split = [partitions[text] for text in said if text in partitions]
    assert len(split) == 1 and MAX_PARTS < split[0] <= runner.MAX_SPLIT_PARTS  # once, finer than the read's
    for name, table in whole.metrics.items():
        assert _rows(bucketed.metrics[name]) == _rows(table), name
    assert _rounded(bucketed.to_dict()) == _rounded(whole.to_dict())
    layout = Layout.read(dataset.workspace / "parts")  # the finer parts took the place of the read's
    assert layout is not None and layout.parts == split[0]
    assert sorted(p.name for p in dataset.workspace.iterdir() if p.name.startswith(".")) == []
    said.clear()
    again = audit(dataset, policy, progress=said.append)
    assert not [text for text in said if text in partitions]  # a second audit of the workspace splits no more
    assert _rounded(again.to_dict()) == _rounded(whole.to_dict())
    assert dataset.rows_of(kind, memory.agents()[:1]).equals(before)
    for agent in memory.agents()[::7]:  # the reports read the finer parts, the index opened before too
        for kind in memory.kinds():
            assert dataset.rows_of(kind, [agent]).equals(memory.rows_of(kind, [agent])), (kind, agent)


def test_a_split_that_fails_leaves_no_parts_and_the_next_audit_splits_again(
        world_exports: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The read's parts are removed before the finer ones are written (one set on disk at a time): a split that
    fails (a full disk) leaves a workspace without parts, which the next audit splits again, with the same
    results."""
    exports, policy = world_exports
    whole = audit(api.load([exports]), policy)
    monkeypatch.setattr(runner, "BUCKET_ROWS", 60)
    dataset = api.load([exports], api.ReadOptions(large_input_bytes=0))
    assert dataset.workspace is not None
    original_split = runner.split_file

    def failing(source: Path, folder: Path, parts: int) -> list[int]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner, "split_file", failing)
    with pytest.raises(OSError):
        audit(dataset, policy)
    assert Layout.read(dataset.workspace / "parts") is None
    monkeypatch.setattr(runner, "split_file", original_split)
    assert _rounded(audit(dataset, policy).to_dict()) == _rounded(whole.to_dict())
    assert Layout.read(dataset.workspace / "parts") is not None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "é", "", None]), max_size=6), max_size=5),
       st.sampled_from(["positions", "web_requests", "activity_events"]))
def test_a_buckets_text_is_encoded_once_with_the_same_values(chunks: list[list[str | None]], kind: str) -> None:
    """A bucket's tool, agent and free texts become one dictionary array each (values in order of appearance, as
    every reader's own encoding would give); the other columns are left as they are."""
    schema = schemas.empty_table(kind).schema.set(0, pa.field("agent", pa.string()))
    columns = {"agent": pa.chunked_array([pa.array(chunk, pa.string()) for chunk in chunks], pa.string())}
    rows = len(columns["agent"])
    table = pa.table({name: columns.get(name, pa.nulls(rows, schema.field(name).type)) for name in schema.names},
                     schema=schema)
    encoded = runner.encoded_texts(kind, table)
    column = encoded.column("agent")
    assert pa.types.is_dictionary(column.type)
    assert column.num_chunks == 1
    assert column.to_pylist() == table.column("agent").to_pylist()
    assert column.chunk(0).dictionary.to_pylist() == list(dict.fromkeys(v for v in column.to_pylist() if v is not None))
    untouched = [name for name in schema.names if name not in ("tool", "agent", *dict(text_values.SOURCES[kind]))]
    assert encoded.select(untouched) == table.select(untouched)
