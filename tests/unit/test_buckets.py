"""Rows split into per-bucket Arrow files (``io.buckets``), written on a thread of their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.io.buckets import BucketFiles, read_bucket


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), max_size=30), max_size=6), st.sampled_from([2, 4, 1 << 13]))
def test_each_bucket_holds_its_rows_in_the_order_given(tmp_path_factory: pytest.TempPathFactory,
                                                       chunks: list[list[int]], batch: int) -> None:
    folder = tmp_path_factory.mktemp("buckets")
    with BucketFiles(folder, batch=batch) as files:
        offset = 0
        for chunk in chunks:
            files.split(pa.table({"row": pa.array(range(offset, offset + len(chunk)), pa.int64())}),
                        np.asarray(chunk, dtype=np.int64))
            offset += len(chunk)
    flat = [bucket for chunk in chunks for bucket in chunk]
    assert files.written == sorted(set(flat))
    for bucket in range(6):
        held = read_bucket(folder, bucket)
        expected = [row for row, b in enumerate(flat) if b == bucket]
        assert (held.column("row").to_pylist() if held is not None else []) == expected


def test_an_error_while_writing_reaches_the_caller(tmp_path: Path) -> None:
    with pytest.raises(pa.ArrowInvalid), BucketFiles(tmp_path) as files:
        files.split(pa.table({"a": [1, 2]}), np.array([0, 0]))
        files.split(pa.table({"b": ["x", "y"]}), np.array([0, 0]))  # another schema for the same file
        for _ in range(3):  # the error is raised at a later call, or when the files are closed
            files.split(pa.table({"a": [3]}), np.array([1]))
