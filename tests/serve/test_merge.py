"""Files read one after the other on the page become one dataset (``serve.work.merge``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from auditor import api, model
from auditor.serve.work import merge

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"
FILES = [SAMPLES / "positions-csv.csv", SAMPLES / "esirius-agenda-csv.csv", SAMPLES / "squid-native.log"]


def test_a_large_file_keeps_the_merge_in_a_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same rows as merging in memory, and no kind of the large file is read whole."""
    in_memory = merge([api.load([path]) for path in FILES])
    datasets = [api.load([FILES[0]], api.ReadOptions(large_input_bytes=0)), *(api.load([p]) for p in FILES[1:])]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a whole kind was read into memory")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(model.ParquetTables, "__getitem__", refuse)
    merged = merge(datasets)
    monkeypatch.undo()
    assert merged.workspace is not None and in_memory.workspace is None
    assert merged.kinds() == in_memory.kinds() and len(merged.kinds()) == 3
    for kind in merged.kinds():
        assert merged.tables[kind].equals(in_memory.tables[kind].cast(merged.tables[kind].schema))
    assert merged.provenance == in_memory.provenance and merged.rejects.equals(in_memory.rejects)


def test_one_dataset_is_its_own_merge() -> None:
    dataset = api.load([FILES[0]], api.ReadOptions(large_input_bytes=0))
    assert merge([dataset]) is dataset
