"""What a parser is, and the context it reports to.

A parser is one class in one module: a ``name`` shown to users, the canonical ``kind`` it emits, a
cheap ``sniff`` on the first bytes, and ``parse`` yielding Arrow record batches of that kind. It counts
every record it reads (``ctx.rows_in``) and either adds it to a batch or rejects it with a reason, so
``rows_in == rows_parsed + rows_rejected`` always holds. ``render`` is the writer counterpart used by
``auditor synth`` and by round-trip property tests.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
import pyarrow as pa

from auditor import schemas
from auditor.errors import ROW_REASONS, WARNINGS
from auditor.io import text as textio
from auditor.io.encoding import Encoding, decode_head, detect
from auditor.io.times import to_utc

HEAD_SIZE = 64 * 1024
BATCH_ROWS = 64 * 1024
RAW_LIMIT = 1000  # characters of a rejected line kept in the rejects table
BLOCK_BYTES = 8 << 20  # what a vectorised fast path reads at a time (bounded memory, few Python calls)
#: Blocks read ahead and converted at once on two threads (two waiting while two convert: the converters
#: never wait for the parsing thread, which also hands batches on; about 4 × 3 block sizes of memory).
BLOCKS_IN_FLIGHT = 4


@dataclass(frozen=True)
class Head:
    """The first bytes of a file, decoded once for every parser's ``sniff``."""

    raw: bytes
    name: str
    encoding: Encoding
    complete: bool

    @property
    def text(self) -> str:
        return decode_head(self.raw, self.encoding)

    @property
    def is_container(self) -> bool:
        """A zip (XLSX too) or OLE2 (XLS) file: bytes, not text, so no encoding applies."""
        return self.raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))

    @classmethod
    def of(cls, raw: bytes, name: str, complete: bool) -> Head:
        return cls(raw, name, detect(raw, complete=complete), complete)


@dataclass
class Source:
    """An input file (or an in-memory one, for tests and archive members)."""

    name: str
    opener: Callable[[], BinaryIO]
    path: Path | None = None
    #: For an archive member: the member names from the outermost archive inward, and how to open it.
    chain: tuple[str, ...] = ()
    root_opener: Callable[[], BinaryIO] | None = None
    _head: Head | None = None

    def __post_init__(self) -> None:
        if self.root_opener is None:
            self.root_opener = self.opener

    @classmethod
    def from_path(cls, path: Path) -> Source:
        return cls(name=path.name, opener=lambda: path.open("rb"), path=path)

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Source:
        return cls(name=name, opener=lambda: io.BytesIO(data))

    @property
    def basename(self) -> str:
        """The file's own name (an archive member's display name is ``archive.zip:dir/file``)."""
        return self.name.rsplit(":", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def head(self) -> Head:
        if self._head is None:
            with self.opener() as f:
                raw = f.read(HEAD_SIZE + 1)
            self._head = Head.of(raw[:HEAD_SIZE], self.basename, complete=len(raw) <= HEAD_SIZE)
        return self._head

    @property
    def encoding(self) -> Encoding:
        return self.head.encoding

    def open_binary(self) -> BinaryIO:
        return self.opener()

    def lines(self, ctx: ParseContext) -> Iterator[tuple[int, str]]:
        """Numbered decoded lines (ends stripped) for line-oriented formats."""
        with self.opener() as binary:
            stream = textio.open_text(binary, self.encoding)
            yield from textio.numbered_lines(stream, self.name, ctx.count_repair)

    def physical_lines(self, ctx: ParseContext) -> Iterator[str]:
        """Decoded lines with their ends, for the csv module."""
        with self.opener() as binary:
            stream = textio.open_text(binary, self.encoding)
            yield from textio.physical_lines(stream, self.name, ctx.count_repair)


@dataclass
class Reject:
    row: int | None
    code: str
    params: dict[str, Any]
    raw: str


@dataclass
class ParseContext:
    """What a parser reports to: rejects and warnings as data, the zone assumed, row accounting."""

    file: str
    tool: str
    tz: tzinfo
    agent_hint: str
    rows_in: int = 0
    rows_parsed: int = 0
    rejects: list[Reject] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)
    _offsets: dict[datetime, timedelta | None] = field(default_factory=dict, repr=False)

    def reject(self, row: int | None, code: str, raw: str = "", **params: Any) -> None:
        assert code in ROW_REASONS, code
        self.rejects.append(Reject(row, code, params, raw[:RAW_LIMIT]))

    def warn(self, code: str, n: int = 1) -> None:
        assert code in WARNINGS, code
        self.counts[code] += n

    def count_repair(self) -> None:
        self.counts["encoding-replaced-bytes"] += 1

    def time(self, value: datetime | None) -> datetime | None:
        """Aware UTC by the canonical time rules, counting DST guesses and sentinels.

        Naive times are the hot path of most parsers: the zone's offset is cached per wall-clock hour, and
        only hours next to a clock change (or dates old enough to be sentinels) take the full rule.
        """
        if value is None:
            return None
        if value.tzinfo is not None:
            return to_utc(value, self.tz, self.counts)
        self.counts["timezone-missing"] += 1
        if value.year < 1910:
            return to_utc(value, self.tz, self.counts)
        hour = value.replace(minute=0, second=0, microsecond=0)
        if hour not in self._offsets:
            self._offsets[hour] = _steady_offset(hour, self.tz)
        offset = self._offsets[hour]
        if offset is None:
            return to_utc(value, self.tz, self.counts)
        return (value - offset).replace(tzinfo=UTC)

    def builder(self, kind: str, tool: str | None = None) -> BatchBuilder:
        return BatchBuilder(kind, self, tool or self.tool)


def _steady_offset(hour: datetime, tz: tzinfo) -> timedelta | None:
    """The UTC offset valid for the whole wall-clock ``hour``, or None when a clock change is near."""
    offsets = {
        (hour + delta).replace(tzinfo=tz, fold=fold).utcoffset()
        for delta in (timedelta(0), timedelta(minutes=59, seconds=59, microseconds=999999))
        for fold in (0, 1)
    }
    if len(offsets) != 1:
        return None
    before = (hour - timedelta(hours=1)).replace(tzinfo=tz).utcoffset()
    after = (hour + timedelta(hours=2)).replace(tzinfo=tz).utcoffset()
    offset = offsets.pop()
    return offset if before == offset == after else None


class BatchBuilder:
    """Collects canonical rows column by column and hands out typed record batches."""

    def __init__(self, kind: str, ctx: ParseContext, tool: str, size: int = BATCH_ROWS) -> None:
        self.schema = schemas.get(kind)
        self.ctx = ctx
        self.tool = tool
        self.size = size
        self._payload = [n for n in self.schema.names if n not in schemas.BOOKKEEPING]
        self._required = [n for n in self.schema.required if n not in schemas.BOOKKEEPING]
        self._columns: dict[str, list[Any]] = {n: [] for n in self.schema.names}

    def add(self, row: int, values: Mapping[str, Any], raw: str = "") -> pa.RecordBatch | None:
        """Add one row (or reject it if a required field is empty); a full batch comes back."""
        for name in self._required:
            value = values.get(name)
            if value is None or value == "":
                self.ctx.reject(row, "row-required-missing", raw, field=name)
                return None
        columns = self._columns
        for name in self._payload:
            value = values.get(name)
            columns[name].append(None if value == "" else value)
        columns["tool"].append(self.tool)
        columns["source_file"].append(self.ctx.file)
        columns["source_row"].append(row)
        self.ctx.rows_parsed += 1
        return self.flush() if len(columns["tool"]) >= self.size else None

    def flush(self) -> pa.RecordBatch | None:
        if not self._columns["tool"]:
            return None
        batch = pa.RecordBatch.from_pydict(self._columns, schema=self.schema.arrow)
        self._columns = {n: [] for n in self.schema.names}
        return batch

    def finish(self) -> Iterator[pa.RecordBatch]:
        batch = self.flush()
        if batch is not None:
            yield batch


class Parser:
    """Base of every parser; subclasses set the class attributes and implement sniff and parse."""

    name: ClassVar[str]
    kind: ClassVar[str]
    tool: ClassVar[str]
    version: ClassVar[str] = "1"
    patterns: ClassVar[tuple[str, ...]] = ()
    extensions: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[dict[str, str]] = {"fr": "", "en": ""}
    #: What the export cannot show, in plain words (docs/formats.md).
    blind_spots: ClassVar[dict[str, str]] = {"fr": "", "en": ""}
    #: Canonical fields that survive render → parse unchanged (round-trip tests compare these).
    roundtrip_fields: ClassVar[tuple[str, ...]] = ()

    def sniff(self, head: Head) -> float:
        """Confidence in [0, 1] that ``head`` starts a file of this format. Cheap, no side effects."""
        raise NotImplementedError

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """The bytes of an export of this format holding ``rows`` (canonical values)."""
        raise NotImplementedError

    def synth_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The rows of a synthetic world this format would hold (default: all rows of its kind)."""
        return list(rows)

    def row_strategy(self) -> Any:
        """A hypothesis strategy of canonical rows this format can carry (see auditor.testing.strategies)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "tool": self.tool,
            "version": self.version,
            "patterns": list(self.patterns),
            "title": dict(self.title),
        }


def byte_blocks(stream: BinaryIO, size: int | None = None) -> Iterator[bytes]:
    """The stream as blocks of whole lines (split after a LF), about ``size`` bytes each.

    A block ends after ``\\n``, so it never cuts a UTF-8 sequence or a CRLF; the last one may lack its end.
    A line longer than four block sizes is cut (the row path then bounds its length). From a file, each
    block is one ``os.pread`` of exactly its bytes, its end found first in a small window: the kernel
    fills it without the GIL, where gluing the rest of the last line to a read copied the whole block
    again, under the GIL, while the converting threads waited for it. Other streams (archive members,
    bytes in memory) are read and glued.
    """
    size = size or BLOCK_BYTES
    descriptor = _regular_file(stream)
    if descriptor is None:
        yield from _glued_blocks(stream, size)
        return
    position = stream.tell()
    while True:
        end = _block_end(descriptor, position, size)
        block = os.pread(descriptor, end - position, position)
        if not block:
            return
        yield block
        position += len(block)


def _regular_file(stream: BinaryIO) -> int | None:
    """The descriptor of a stream reading a regular file (``pread`` works on it), else None."""
    try:
        descriptor = stream.fileno()
        return descriptor if stat.S_ISREG(os.fstat(descriptor).st_mode) else None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        return None


_WINDOW = 64 * 1024


def _block_end(descriptor: int, position: int, size: int) -> int:
    """Where the block starting at ``position`` ends: after the first LF from its ``size``-th byte on,
    or five block sizes after ``position`` (a very long line), or at the end of the file."""
    limit = position + 5 * size
    offset = position + size - 1
    while offset < limit:
        window = os.pread(descriptor, min(_WINDOW, limit - offset), offset)
        if not window:
            return offset  # the end of the file
        found = window.find(b"\n")
        if found >= 0:
            return offset + found + 1
        offset += len(window)
    return limit


def _glued_blocks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """``byte_blocks`` of a stream without a file: ``size`` bytes read plus the rest of their last line."""
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        while not chunk.endswith(b"\n"):
            tail = stream.readline(4 * size)  # a very long line is cut (the row path then bounds its length)
            if not tail:
                break
            chunk += tail
            if b"\n" not in tail and len(chunk) > 4 * size:
                break
        yield chunk


def plain_ascii(block: bytes) -> bool:
    """Printable ASCII lines only (CR only before LF): what the fast paths read exactly like the row path.

    Counted with numpy (every byte below 32 must be a LF or a CR): a third faster than deleting the
    printable bytes with ``bytes.translate`` and looking at what is left.
    """
    if not block.isascii() or b"\x7f" in block:
        return False
    data = np.frombuffer(block, np.uint8)
    controls = np.count_nonzero(data < 32)
    lines = np.count_nonzero(data == 10)
    if controls == lines:
        return True
    returns = block.count(b"\r")
    return bool(controls == lines + returns) and returns == block.count(b"\r\n")


def block_lines(block: bytes, encoding: Encoding, file: str, ctx: ParseContext, first: int = 1) -> Iterator[str]:
    """The physical lines of a block, decoded exactly as ``Source.physical_lines`` decodes the file.

    ``first`` is the file line number of the block's first line, so an error names the line of the file.
    """
    stream = textio.open_text(io.BytesIO(block), Encoding(encoding.name, encoding.how, 0))
    yield from textio.physical_lines(stream, file, ctx.count_repair, first=first)


def bookkeeping(kind: str, columns: Mapping[str, Any], tool: str, file: str, first_row: int,
                rows: Any = None) -> pa.Table:
    """A canonical table from payload columns (missing ones null) plus tool, source_file, source_row.

    ``rows`` (int64 numbers) overrides the default ``first_row, first_row + 1, …``.
    """
    schema = schemas.get(kind).arrow
    length = len(next(iter(columns.values())))
    if rows is None:
        rows = np.arange(first_row, first_row + length, dtype=np.int64)
    arrays: list[Any] = []
    for name in schema.names:
        if name == "tool":
            arrays.append(repeated(tool, length))
        elif name == "source_file":
            arrays.append(repeated(file, length))
        elif name == "source_row":
            arrays.append(pa.array(rows, pa.int64()))
        elif name in columns:
            arrays.append(columns[name])
        else:
            arrays.append(pa.nulls(length, schema.field(name).type))
    return pa.Table.from_arrays(arrays, schema=schema)


def repeated(text: str, length: int) -> Any:
    """``text`` ``length`` times: a zero-copy slice of a run built once per text and power of two (every block
    of a file repeats its tool and its name; building them anew cost ~1 ms per block, under the GIL)."""
    if length > 1 << 20:
        return pa.repeat(pa.scalar(text, pa.string()), length)
    return _run(text, 1 << max(16, (length - 1).bit_length())).slice(0, length)


@lru_cache(maxsize=32)
def _run(text: str, size: int) -> Any:
    return pa.repeat(pa.scalar(text, pa.string()), size)


def tiled(row: np.ndarray, n: int) -> np.ndarray:
    """``row`` repeated ``n`` times, flat (to compare fixed-width texts with a template byte by byte: a
    row-wise broadcast is 6× slower); a slice of a copy made once per row and power of two."""
    return _tiles(row.tobytes(), 1 << max(12, (n - 1).bit_length()))[:n * len(row)]


@lru_cache(maxsize=16)
def _tiles(row: bytes, n: int) -> np.ndarray:
    tiles = np.tile(np.frombuffer(row, np.uint8), n)
    tiles.flags.writeable = False
    return tiles


def string_buffers(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (int32, one more than values) and the bytes of a pyarrow string array, without copies."""
    _, offsets, data = values.buffers()
    starts = np.frombuffer(memoryview(offsets), dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    chars = np.frombuffer(memoryview(data), dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return starts, chars


_TEXT: pa.DataType = pa.string()
REJECTS_SCHEMA = pa.schema({"source_file": _TEXT, "source_row": pa.int64(), "reason": _TEXT, "params": _TEXT,
                            "raw": _TEXT})


def rejects_table(file: str, rejects: Sequence[Reject]) -> pa.Table:
    if not rejects:  # pa.array of a Python list imports pandas (~1 s) the first time: not for nothing
        return REJECTS_SCHEMA.empty_table()
    return pa.table(
        {
            "source_file": pa.array([file] * len(rejects), pa.string()),
            "source_row": pa.array([r.row for r in rejects], pa.int64()),
            "reason": pa.array([r.code for r in rejects], pa.string()),
            "params": pa.array(
                [json.dumps(r.params, ensure_ascii=False, default=str) for r in rejects], pa.string()
            ),
            "raw": pa.array([r.raw for r in rejects], pa.string()),
        },
        schema=REJECTS_SCHEMA,
    )
