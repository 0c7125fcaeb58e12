"""Ingesting into a workspace: batches are encoded on a writer thread of their own, in order, and a failure on
either side leaves no table behind and no thread waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor import api
from auditor.sources import registry
from auditor.sources.base import ParseContext, Source

SAMPLES = Path(__file__).parents[2] / "sample_exports"


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "parquet-writer"]


def test_a_workspace_holds_the_rows_read_in_memory(tmp_path: Path) -> None:
    files = [SAMPLES / "positions-csv.csv", SAMPLES / "squid-native.log", SAMPLES / "qmatic-statdb-csv.csv"]
    memory = api.load(files)
    result = api.ingest(files, tmp_path / "ws")
    for kind, table in memory.tables.items():
        assert pq.read_table(result.tables[kind]).equals(table)
    assert not _writer_threads()


def test_a_parser_failing_midway_leaves_no_table_and_no_thread(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    parser = registry.get("positions-csv")
    original = type(parser).parse

    def failing(self: Any, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        yield from original(self, source, ctx)
        raise RuntimeError("parser failed")

    monkeypatch.setattr(type(parser), "parse", failing)
    with pytest.raises(RuntimeError, match="parser failed"):
        api.ingest([SAMPLES / "positions-csv.csv"], tmp_path / "ws")
    assert list((tmp_path / "ws" / "tables").iterdir()) == []
    assert not _writer_threads()


def test_a_writer_failing_is_raised_in_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(self: Any, batch: pa.RecordBatch, row_group_size: int | None = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", failing)
    with pytest.raises(OSError, match="disk full"):
        api.ingest([SAMPLES / "positions-csv.csv"], tmp_path / "ws")
    assert list((tmp_path / "ws" / "tables").iterdir()) == []
    assert not _writer_threads()


def test_batches_are_written_in_the_order_given(tmp_path: Path) -> None:
    schema = pa.schema([pa.field("n", pa.int64())])
    writer = api._BackgroundWriter(pq.ParquetWriter(tmp_path / "n.parquet", schema), depth=2)
    for start in range(0, 1000, 10):
        writer.write_batch(pa.record_batch([pa.array(range(start, start + 10), pa.int64())], schema=schema))
    writer.close()
    writer.close()  # idempotent
    assert pq.read_table(tmp_path / "n.parquet").column("n").to_pylist() == list(range(1000))
    with pytest.raises(RuntimeError):
        writer.write_batch(pa.record_batch([pa.array([1], pa.int64())], schema=schema))
