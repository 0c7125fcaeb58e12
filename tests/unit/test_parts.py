"""The person partition written at the read (``io.parts``): parts by identifier, packed into buckets by person."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.io.parts import (
    ENCODED,
    MAX_PARTS,
    MIN_PARTS,
    ROW_NUMBER,
    Layout,
    PartWriter,
    pack,
    part_count,
    part_of,
    read_parts,
)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=40),
       st.lists(st.lists(st.integers(0, 39), min_size=1, max_size=4), max_size=6), st.integers(1, 120),
       st.integers(1, 3))
def test_pack_keeps_groups_together_and_buckets_within_capacity(rows: list[int], groups: list[list[int]],
                                                                capacity: int, multiple: int) -> None:
    """Every part in exactly one bucket, each group's parts in the same one, and a bucket over capacity only when
    it holds a single group that alone is over it (whatever multiple of workers the count is rounded to)."""
    groups = [[p % len(rows) for p in group] for group in groups]
    buckets = pack(rows, groups, capacity, multiple)
    placed = sorted(part for bucket in buckets for part in bucket)
    assert placed == list(range(len(rows)))
    home = {part: index for index, bucket in enumerate(buckets) for part in bucket}
    for group in groups:
        assert len({home[part] for part in group}) == 1
    for bucket in buckets:
        load = sum(rows[part] for part in bucket)
        if load > capacity:  # one indivisible group: every part of the bucket is linked to the first
            linked = {bucket[0]}
            for _ in range(len(groups)):
                for group in groups:
                    if linked & set(group):
                        linked |= set(group)
            assert linked >= set(bucket)


def test_pack_uses_few_buckets() -> None:
    assert pack([10] * 8, [], 40) == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert pack([100, 1, 1], [], 10) == [[0], [1, 2]]
    assert pack([10] * 8, [], 30, multiple=2) == [[0, 4], [1, 5], [2, 6], [3, 7]]  # 3 buckets would do: 4 for 2
    assert len(pack([10] * 8, [], 40, multiple=2)) == 2
    assert len(pack([100, 1, 1, 1], [], 10, multiple=2)) == 2  # the one over capacity counts


@pytest.mark.parametrize(("size", "rows", "expected"), [(0, 1000, MIN_PARTS), (40 * 10**6, 250_000, MIN_PARTS),
                                                        (40 * 10**7, 1_000_000, 40), (10**12, 1000, MAX_PARTS)])
def test_part_count(size: int, rows: int, expected: int) -> None:
    assert part_count(size, rows) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["ana", "bo", "chloé", "d\u00ff\U0001f600", None]), max_size=40), max_size=5),
       st.sampled_from([1, 3, 16]), st.booleans())
def test_part_writer_puts_each_row_in_its_identifiers_part(tmp_path_factory: pytest.TempPathFactory,
                                                           batches: list[list[str | None]], parts: int,
                                                           small: bool) -> None:
    """``small``: rows split a few at a time and written in tiny batches, so that each part's file gets several
    batches whose dictionaries grow (written as deltas)."""
    folder = tmp_path_factory.mktemp("parts")
    writer = PartWriter(folder, parts)
    if small:
        writer._chunk, writer._files.batch = 3, 2
    row = 0
    for agents in batches:
        writer.write(pa.RecordBatch.from_pydict({
            "agent": pa.array(agents, pa.string()), "row": pa.array(range(row, row + len(agents)), pa.int64()),
            "tool": pa.array([f"tool-{len(agents) % 3}"] * len(agents), pa.string()),
            "source_file": pa.array(["f"] * len(agents)), "source_row": pa.array([1] * len(agents), pa.int64())}))
        row += len(agents)
    writer.close()
    flat = [agent for agents in batches for agent in agents]
    assert writer.rows.tolist() == [sum(part_of(a, parts) == p for a in flat) for p in range(parts)]
    for part in range(parts):
        held = read_parts(folder, [part])
        expected = [(i, a) for i, a in enumerate(flat) if part_of(a, parts) == part]
        if held is None:
            assert not expected
            continue
        assert held.column_names == ["agent", "row", "tool", ROW_NUMBER]  # provenance stays behind, the row number
        assert list(zip(held.column("row").to_pylist(), held.column("agent").to_pylist(), strict=True)) == expected
        assert held.column(ROW_NUMBER).equals(held.column("row"))
        tools = [f"tool-{len(agents) % 3}" for agents in batches for _ in agents]
        assert held.column("tool").to_pylist() == [tools[i] for i, _ in expected]
        for name in ENCODED:  # codes on one dictionary, which names each value once
            assert pa.types.is_dictionary(held.schema.field(name).type)
            dictionaries = {tuple(chunk.dictionary.to_pylist()) for chunk in held.column(name).chunks}
            assert len(dictionaries) == 1
            assert len(set(next(iter(dictionaries)))) == len(next(iter(dictionaries)))
    assert read_parts(folder, range(parts)) is None or read_parts(folder, range(parts)).num_rows == len(flat)


def test_part_of_is_stable() -> None:
    """The same identifier, the same part, in every process (a hash seeded per process would not do)."""
    assert [part_of(a, 512) for a in ("agent-1", "Chloé", None)] == [part_of(a, 512) for a in ("agent-1", "Chloé",
                                                                                                None)]
    assert part_of("agent-1", 512) == 409  # CRC-32, fixed


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 2, "parts": 2}',
                                  '{"version": 2, "parts": 2, "rows": {"positions": [1]}}',
                                  '{"version": 2, "parts": 0, "rows": {}}', '{"version": 2, "parts": 2, "rows": []}',
                                  '{"parts": 2, "rows": {"positions": [1, 2]}}'])  # the parts of version 1
def test_an_unreadable_layout_is_none(tmp_path: Path, text: str) -> None:
    (tmp_path / "layout.json").write_text(text, encoding="utf-8")
    assert Layout.read(tmp_path) is None


def test_layout_round_trip(tmp_path: Path) -> None:
    Layout(2, {"positions": [3, 4]}).write(tmp_path)
    assert Layout.read(tmp_path) == Layout(2, {"positions": [3, 4]})
    assert json.loads((tmp_path / "layout.json").read_text(encoding="utf-8"))["parts"] == 2
    (tmp_path / "layout.json").write_text('{"version": 3, "parts": 2, "rows": {"positions": [1, 2]}}')
    assert Layout.read(tmp_path) == Layout(2, {"positions": [1, 2]})
    (tmp_path / "layout.json").write_text('{"version": 2, "parts": 2, "rows": {"positions": [1, 2]}}')
    assert Layout.read(tmp_path) is None  # parts of another version: text where this one holds codes


def test_a_part_of_wide_rows_weighs_more_than_its_rows(tmp_path: Path) -> None:
    """Buckets are sized in rows of the width their memory was measured on: a part of long URLs counts for more."""
    from auditor.metrics.runner import BUCKET_ROW_WIDTH, _row_weight

    for name, text in (("narrow", "a"), ("wide", "u" * 4 * BUCKET_ROW_WIDTH)):
        writer = PartWriter(tmp_path / name, 1)
        writer.write(pa.RecordBatch.from_pydict({"agent": ["ana"] * 100, "url": [text] * 100}))
        writer.close()
    assert _row_weight(100, tmp_path / "narrow", 0) == 100
    assert 400 <= _row_weight(100, tmp_path / "wide", 0) <= 500
    assert _row_weight(0, tmp_path / "absent", 0) == 0
