"""The person partition, written while the input is read: each row to one of up to 128 parts by its identifier.

An out-of-core audit measures per-person metrics bucket by bucket, each bucket holding every row of its persons.
It used to split every table once more after the read (decode the Parquet just written, look up each row's person,
sort, write): 2.5 s of an audit of 10 M fixes, on one core while the other idled. The same split now runs on a
writer thread of the read, which reads nothing back. A person is only known at the audit (the identity map is the
policy's), so parts are keyed by identifier, and the audit puts the parts of one person's identifiers in one
bucket (``pack``); a workspace whose parts do not match its tables (or that has none) is split by the audit with
the same ``PartWriter``.
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from auditor.io.buckets import BucketFiles, read_bucket, shared_dictionaries
from auditor.io.output import write_text

LAYOUT = "layout.json"
#: What the parts hold, as ``layout.json`` says: 2 since they keep each row's number (``ROW_NUMBER``), 3 since
#: they hold the ``ENCODED`` columns as dictionary codes.
LAYOUT_VERSION = 3
#: Text columns the parts hold as codes of one dictionary per column and kind, which only grows (each part's file
#: holds it as deltas): a bucket and a report then read codes instead of hashing each row's text again (a bucket of
#: 1.24 M fixes: 52 ms), the split takes 4-byte codes instead of texts, and the files are a fifth smaller. Tools and
#: identifiers only: their dictionaries grow with the tools and agents, not with the input.
ENCODED = ("tool", "agent")
#: The provenance columns stay behind: only per-tool metrics, never bucketed, read them (a personal report finds
#: its files with one query of the tables).
LEFT_BEHIND = ("source_file", "source_row")
#: Each row's place in its kind's table, kept beside it: a person's rows from several parts are put back in input
#: order by it (the copy sorted by agent that reports read is made of the parts).
ROW_NUMBER = "file_row_number"
#: A bucket is made of about this many parts (finer: buckets of more even sizes, more files).
PARTS_PER_BUCKET = 4
#: Input bytes per row assumed when counting parts before the read (short rows: more parts, never too few).
MIN_ROW_BYTES = 40
#: At most 128: past that each part's batches get small and its pending rows many (25 M Squid lines read in 25 s
#: and 908 MB with 512 parts, 19.7 s and 685 MB with 128).
MIN_PARTS, MAX_PARTS = 16, 128
#: Rows all parts may hold waiting for their file together (each part writes batches of its share of it). The
#: read's peak memory grows with it: 5 M Squid lines 808 MB at 2^19, 621 MB at 2^18, 527 MB at 2^17, as fast. A
#: split into more than 256 parts (the audit's finer one, past ~90 M rows) waits for no more: its first 15 M rows of
#: Squid lines into 512 parts peaked at 803 MB waiting for 2^19, 581 MB for 2^18 (10.9 -> 11.7 s).
WAITING_ROWS = 1 << 18


def part_count(input_bytes: int, bucket_rows: int) -> int:
    """How many parts an input of ``input_bytes`` is split into, for buckets of ``bucket_rows`` rows."""
    rows = input_bytes // MIN_ROW_BYTES
    return int(min(MAX_PARTS, max(MIN_PARTS, -(-rows * PARTS_PER_BUCKET // max(1, bucket_rows)))))


def part_of(agent: str | None, parts: int) -> int:
    """The part of an identifier's rows: the same in every kind, every run and every process (CRC-32)."""
    return 0 if agent is None else zlib.crc32(agent.encode("utf-8")) % parts


class PartWriter:
    """One kind's rows split into ``parts`` Arrow files under ``folder`` by identifier, and counted per part."""

    def __init__(self, folder: Path, parts: int) -> None:
        self.parts = parts
        self.rows = np.zeros(parts, dtype=np.int64)
        # (batches half this size, most slices then written without waiting, saved 0.02 s of CPU per million rows
        # but raised the peak of 50 M fixes by about 80 MB)
        self._files = BucketFiles(folder, batch=max(1 << 10, min(BucketFiles.BATCH, WAITING_ROWS // parts)))
        self._chunk = min(WAITING_ROWS, self._files.chunk_rows(parts))  # rows split at once
        self._known: dict[str | None, int] = {}
        self._dictionaries = {name: GrowingDictionary() for name in ENCODED}
        self._waiting: list[pa.RecordBatch] = []
        self._waiting_rows = 0
        self._written = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Add a batch, the next rows of the kind's table (the split waits for enough rows that each part's slice
        is not tiny)."""
        kept = batch.select([n for n in batch.schema.names if n not in LEFT_BEHIND])
        numbers = pa.array(np.arange(self._written, self._written + batch.num_rows, dtype=np.int64))
        self._waiting.append(kept.append_column(ROW_NUMBER, numbers))
        self._written += batch.num_rows
        self._waiting_rows += batch.num_rows
        if self._waiting_rows >= self._chunk:
            self._split()

    def _split(self) -> None:
        if not self._waiting_rows:
            return
        rows = pa.Table.from_batches(self._waiting)
        self._waiting, self._waiting_rows = [], 0
        encoded = {name: _encoded(rows.column(name)) for name in ENCODED if name in rows.column_names}
        parts = self._parts_of(encoded["agent"])
        for name, codes in encoded.items():
            index = rows.schema.get_field_index(name)
            field = rows.schema.field(index)
            coded = self._dictionaries[name].codes(codes)
            rows = rows.set_column(index, pa.field(name, coded.type, field.nullable), pa.chunked_array([coded]))
        self.rows += np.bincount(parts, minlength=self.parts)
        self._files.split(rows, parts)

    def _parts_of(self, encoded: pa.DictionaryArray[Any, Any]) -> np.ndarray:
        """Each row's part, computed once per distinct identifier."""
        values = encoded.dictionary.to_pylist()
        known = self._known
        lookup = np.asarray([known[v] if v in known else known.setdefault(v, part_of(v, self.parts))
                             for v in values] + [part_of(None, self.parts)], dtype=np.int16)
        parts: np.ndarray = lookup[np.asarray(encoded.indices.fill_null(len(values)))]
        return parts

    def close(self) -> None:
        """Split what waits and close the files (raises the writer thread's error)."""
        self._split()
        self._files.close()

    def abandon(self) -> None:
        self._files.abandon()

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()


class GrowingDictionary:
    """Codes of one text column across a whole read: each value keeps the code of its first appearance, so that
    every dictionary given out begins with the ones given before (an Arrow file writes the new values as a delta)."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}  # in order of first appearance: the dictionary
        self._array: pa.Array[Any] = pa.array([], pa.string())

    def codes(self, encoded: pa.DictionaryArray[Any, Any]) -> pa.DictionaryArray[Any, Any]:
        """``encoded`` (one chunk's own dictionary) as codes of this dictionary, grown by its new values."""
        known = self._codes
        values: list[Any] = encoded.dictionary.to_pylist()  # (never null: nulls are in the indices)
        lookup = np.asarray([known[v] if v in known else known.setdefault(v, len(known)) for v in values] or [0],
                            dtype=np.int32)
        if len(known) > len(self._array):
            self._array = pa.array(list(known), pa.string())
        indices = encoded.indices
        mask = indices.is_null().to_numpy(zero_copy_only=False) if indices.null_count else None
        codes = lookup[np.asarray(indices.fill_null(0).to_numpy(zero_copy_only=False))]
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=mask), self._array)


def _encoded(column: pa.ChunkedArray[Any]) -> pa.DictionaryArray[Any, Any]:
    """A text column as one dictionary array of its own values."""
    combined = column.combine_chunks()
    if (len(combined) and not combined.null_count and combined[0] == combined[-1]
            and pc.all(pc.equal(combined, combined[0])).as_py()):
        # one value (a file's tool): compared, not hashed (262 k rows: 0.9 against 2.8 ms)
        zeros: Any = pa.array(np.zeros(len(combined), dtype=np.int32), pa.int32())
        return pa.DictionaryArray.from_arrays(zeros, combined[:1])
    return cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(combined))


@dataclass(frozen=True)
class Layout:
    """What a workspace's parts hold: their number and each kind's rows per part."""

    parts: int
    rows: dict[str, list[int]]

    def write(self, folder: Path) -> None:
        write_text(folder / LAYOUT, json.dumps({"version": LAYOUT_VERSION, "parts": self.parts, "rows": self.rows})
                   + "\n")

    @classmethod
    def read(cls, folder: Path) -> Layout | None:
        """The layout of ``folder``'s parts, or None when there are none (or they cannot be read)."""
        try:
            data = json.loads((folder / LAYOUT).read_text(encoding="utf-8"))
            if data.get("version") != LAYOUT_VERSION:  # parts of another version hold other columns
                return None
            layout = cls(int(data["parts"]), {str(k): [int(n) for n in v] for k, v in data["rows"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if layout.parts < 1 or any(len(v) != layout.parts for v in layout.rows.values()):
            return None
        return layout


def split_file(source: Path, folder: Path, parts: int) -> list[int]:
    """Split a kind's Parquet file into ``parts`` under ``folder``, as the read does (a workspace made without
    them); its rows per part."""
    import pyarrow.parquet as pq

    with PartWriter(folder, parts) as writer:  # (pre_buffer: it reads far ahead)
        for batch in pq.ParquetFile(source, pre_buffer=False).iter_batches(batch_size=1 << 16):
            writer.write(batch)
    rows: list[int] = writer.rows.tolist()
    return rows


def matches(layout: Layout | None, kind: str, table: Path) -> bool:
    """Whether ``layout``'s parts of ``kind`` hold the rows of its Parquet file ``table`` (a workspace whose
    tables were rewritten since, or that has no parts, does not)."""
    import pyarrow.parquet as pq

    return layout is not None and kind in layout.rows and sum(layout.rows[kind]) == pq.read_metadata(table).num_rows


def read_parts(folder: Path, parts: Sequence[int]) -> pa.Table | None:
    """The rows of ``parts`` of one kind, mapped from their files (None when none of them has a row)."""
    tables = [table for table in (read_bucket(folder, part) for part in parts) if table is not None]
    return shared_dictionaries(pa.concat_tables(tables)) if tables else None


def pack(rows: Sequence[int], together: Iterable[Iterable[int]], capacity: int, multiple: int = 1) -> list[list[int]]:
    """Parts put into buckets of at most ``capacity`` rows (``rows``: each part's), the parts of each group of
    ``together`` (one person's identifiers') in the same bucket, in as few buckets as the greedy placement
    finds (largest group first, into the emptiest bucket), their number rounded up to a ``multiple`` (the workers
    measuring them: with two, 15 buckets left one worker alone with the last; 16 smaller ones ended 0.2 s sooner
    at 10 M fixes). A group larger than ``capacity`` (one person with more rows than a bucket) is a bucket of its
    own: a person is never split."""
    parent = list(range(len(rows)))

    def root(part: int) -> int:
        while parent[part] != part:
            parent[part] = parent[parent[part]]
            part = parent[part]
        return part

    for group in together:
        first, *others = group
        for other in others:
            a, b = root(first), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for part in range(len(rows)):
        members.setdefault(root(part), []).append(part)
    groups = sorted(members.values(), key=lambda parts: (-sum(rows[p] for p in parts), parts[0]))
    sizes = [sum(rows[p] for p in parts) for parts in groups]
    alone = sum(size > capacity for size in sizes)
    groups, sizes, buckets = groups[alone:], sizes[alone:], [sorted(parts) for parts in groups[:alone]]
    count = max(1, -(-sum(sizes) // max(1, capacity)))
    count += -(len(buckets) + count) % multiple
    while True:
        loads, packed = [0] * count, [[] for _ in range(count)]  # type: list[int], list[list[int]]
        for parts, size in zip(groups, sizes, strict=True):
            emptiest = loads.index(min(loads))
            loads[emptiest] += size
            packed[emptiest] += parts
        if max(loads) <= capacity or count >= len(groups):
            return buckets + [sorted(parts) for parts in packed if parts]
        count += multiple
