"""Python entry points: detect, read, load and ingest exports. The CLI and the web page call these."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from auditor import schemas
from auditor.errors import InputError
from auditor.io import allocator, archive
from auditor.io.background import Background
from auditor.io.hashing import sha256_of
from auditor.io.output import atomic_path, ensure_dir, write_text
from auditor.io.parquet_files import fast_writer
from auditor.io.parts import Layout, PartWriter, part_count
from auditor.io.times import DEFAULT_ZONE, zone
from auditor.model import Dataset, Provenance
from auditor.sources import registry
from auditor.sources.base import REJECTS_SCHEMA, ParseContext, Source, rejects_table

Progress = Callable[[str, int], None]


#: Inputs at least this large (bytes, all files together) are loaded into a Parquet workspace, not memory: in
#: memory a million GPS fixes (80 MB of CSV) already take most of a gigabyte once the metrics run.
LARGE_INPUT_BYTES = 64 << 20


@dataclass(frozen=True)
class ReadOptions:
    timezone: str = DEFAULT_ZONE
    agent: str | None = None
    parser: str | None = None
    #: Where ``load`` keeps a large input (default: a temporary folder removed with the dataset).
    workspace: Path | None = None
    large_input_bytes: int = LARGE_INPUT_BYTES


def expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, and the files inside directories named (sorted, hidden ones skipped)."""
    return [path for path, _ in expand_marked(paths)]


def expand_marked(paths: Iterable[Path | str]) -> list[tuple[Path, bool]]:
    """Like ``expand``, with ``True`` for a file named explicitly (an unknown format is then an error,
    while an unrecognised file found inside a folder — a cover letter, a README — is skipped and listed)."""
    found: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                (p, False) for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            found.append((path, True))
        else:
            raise InputError("file-not-found", str(path))
    return found


def sources(paths: Iterable[Path | str | Source]) -> list[tuple[Source, bool]]:
    """Every input as a Source, zip archives opened into their members (safely, see io/archive.py)."""
    out: list[tuple[Source, bool]] = []
    for item in paths:
        if isinstance(item, Source):
            out.extend(_unpack(item, True, depth=0))
            continue
        for path, explicit in expand_marked([item]):
            out.extend(_unpack(Source.from_path(path), explicit, depth=0))
    return out


def _unpack(source: Source, explicit: bool, depth: int) -> list[tuple[Source, bool]]:
    try:
        head = source.head.raw
    except OSError as error:
        raise InputError("file-unreadable", source.name, detail=str(error)) from None
    if not archive.looks_like_zip(head):
        return [(source, explicit)]
    with source.open_binary() as stream:
        zipped = archive.open_archive(stream, source.name)
        if archive.is_office_document(zipped):
            return [(source, explicit)]
        if depth >= archive.LIMITS.max_depth:
            raise InputError("archive-unsafe", source.name, detail="archives nested too deep")
        members = archive.safe_members(zipped, source.name)
    out: list[tuple[Source, bool]] = []
    for info in members:
        member = _member_source(source, info.filename)
        out.extend(_unpack(member, False, depth + 1))
    return out


def _member_source(parent: Source, member: str) -> Source:
    chain = (*parent.chain, member)
    root = parent.root_opener
    display = f"{parent.name}:{member}"
    return Source(name=display, opener=lambda: archive.MemberStream(root, chain, display),  # type: ignore[arg-type,return-value]
                  path=parent.path, chain=chain, root_opener=root)


def _readable(source: Source, explicit: bool, options: ReadOptions,
              skipped: list[dict[str, str]]) -> FileRead | None:
    """The FileRead of ``source``, or None (listed in ``skipped``) for an unrecognised file inside a folder."""
    try:
        return read(source, options)
    except InputError as error:
        if explicit or error.code not in ("format-unknown", "file-empty"):
            raise
        skipped.append({"file": source.name, "reason": error.code})
        return None


def detect(paths: Iterable[Path | str], parser: str | None = None) -> list[registry.Detection]:
    return [registry.detect(source, parser) for source, _ in sources(paths)]


@dataclass
class FileRead:
    """One input being read: its detection, its batches (once), then its provenance and rejects."""

    source: Source
    options: ReadOptions
    detection: registry.Detection = field(init=False)
    provenance: Provenance = field(init=False)
    rejects: pa.Table = field(init=False)

    def __post_init__(self) -> None:
        self.detection = registry.detect(self.source, self.options.parser)
        self.parser = registry.get(self.detection.parser)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The parser's batches; the file's fingerprint is computed meanwhile on a thread of its own
        (hashlib releases the GIL: on a large file it no longer costs a whole read before parsing starts)."""
        source, parser = self.source, self.parser
        with ThreadPoolExecutor(max_workers=1) as hasher:
            fingerprint = hasher.submit(_fingerprint, source)
            agent = self.options.agent or (Path(source.name).stem or source.name)
            ctx = ParseContext(file=source.name, tool=parser.tool, tz=zone(self.options.timezone),
                               agent_hint=agent)
            if self.detection.encoding_how == "fallback" and not source.head.is_container:
                ctx.warn("encoding-fallback-cp1252")
            try:
                yield from parser.parse(source, ctx)
            except UnicodeError as error:
                raise InputError(
                    "encoding-undecodable", source.name, encoding=self.detection.encoding, detail=str(error)[:120]
                ) from None
            sha256, size = fingerprint.result()
        self.provenance = Provenance(
            file=source.name,
            path=str(source.path or source.name),
            sha256=sha256,
            size=size,
            parser=parser.name,
            parser_version=parser.version,
            kind=parser.kind,
            tool=ctx.tool,
            confidence=self.detection.confidence,
            encoding=self.detection.encoding,
            encoding_how=self.detection.encoding_how,
            timezone=self.options.timezone,
            rows_in=ctx.rows_in,
            rows_parsed=ctx.rows_parsed,
            rows_rejected=len(ctx.rejects),
            warnings=dict(sorted(ctx.counts.items())),
            candidates=[list(c) for c in self.detection.candidates] if self.detection.ambiguous else [],  # type: ignore[misc]
            notes=ctx.notes,
        )
        if not self.provenance.balanced:
            raise RuntimeError(
                f"bug in parser {parser.name}: {ctx.rows_in} rows read but {ctx.rows_parsed} parsed "
                f"and {len(ctx.rejects)} rejected in {source.name}"
            )
        self.rejects = rejects_table(source.name, ctx.rejects)


def _fingerprint(source: Source) -> tuple[str, int]:
    """sha256 and size of the whole input."""
    with source.open_binary() as stream:
        return sha256_of(stream)


def read(path: Path | str | Source, options: ReadOptions | None = None) -> FileRead:
    source = path if isinstance(path, Source) else Source.from_path(Path(path))
    return FileRead(source, options or ReadOptions())


def load(paths: Sequence[Path | str | Source], options: ReadOptions | None = None,
         progress: Progress | None = None) -> Dataset:
    """Read every input into canonical tables; ``progress(file, rows)`` after every batch.

    Small inputs become in-memory Arrow tables. Inputs of ``options.large_input_bytes`` or more are
    streamed into a Parquet workspace (``ingest``), so memory does not grow with them: the dataset's
    metrics then run on the files through DuckDB, and its tables are read only if asked for.
    """
    options = options or ReadOptions()
    with allocator.streaming():
        return _load(paths, options, progress)


def _load(paths: Sequence[Path | str | Source], options: ReadOptions, progress: Progress | None) -> Dataset:
    if options.workspace is not None or _input_bytes(paths) >= options.large_input_bytes:
        return _load_to_workspace(paths, options, progress)
    by_kind: dict[str, list[pa.RecordBatch]] = {}
    rejects: list[pa.Table] = []
    provenance: list[Provenance] = []
    skipped: list[dict[str, str]] = []
    for item, explicit in sources(paths):
        file_read = _readable(item, explicit, options, skipped)
        if file_read is None:
            continue
        batches = by_kind.setdefault(file_read.parser.kind, [])
        for batch in file_read.batches():
            batches.append(batch)
            if progress:
                progress(item.name, batch.num_rows)
        rejects.append(file_read.rejects)
        provenance.append(file_read.provenance)
    tables = {
        kind: pa.Table.from_batches(batches, schema=schemas.get(kind).arrow) for kind, batches in by_kind.items()
    }
    all_rejects = pa.concat_tables(rejects) if rejects else REJECTS_SCHEMA.empty_table()
    return Dataset(tables=tables, rejects=all_rejects, provenance=provenance, skipped=skipped)



def _input_bytes(paths: Sequence[Path | str | Source]) -> int:
    total = 0
    for item in paths:
        path = item.path if isinstance(item, Source) else Path(item)
        if path is None or not path.exists():
            continue
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        total += sum(p.stat().st_size for p in files)
    return total


def _load_to_workspace(paths: Sequence[Path | str | Source], options: ReadOptions,
                       progress: Progress | None) -> Dataset:
    keep = None
    if options.workspace is None:
        keep = tempfile.TemporaryDirectory(prefix="auditor-workspace-")
    workspace = options.workspace or Path(keep.name)  # type: ignore[union-attr]
    result = ingest(paths, workspace, options, progress)
    return Dataset.in_workspace(workspace, pq.read_table(result.rejects), result.provenance, result.skipped, keep)


class _BackgroundWriter(Background[pa.RecordBatch]):
    """A Parquet writer run on a thread of its own (``io.background``).

    Encoding a batch costs about 0.2 s of CPU per million fixes and pyarrow releases the GIL while it runs:
    on the parsing thread it stalled the block pipeline (no block was handed to the converters while a batch
    was encoded), on its own thread it overlaps the parse. Batches are written in the order given.
    """

    def __init__(self, writer: pq.ParquetWriter, depth: int = 8) -> None:
        super().__init__(writer.write_batch, writer.close, depth=depth, name="parquet-writer")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self.put(batch)


@dataclass
class IngestResult:
    out: Path
    tables: dict[str, Path]
    rejects: Path
    provenance: list[Provenance]
    skipped: list[dict[str, str]]


def ingest(
    paths: Sequence[Path | str | Source], out: Path, options: ReadOptions | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Stream every input into ``out/tables/<kind>.parquet``, ``out/rejects.parquet`` and provenance.json.

    Batches go straight to Parquet writers, so memory does not grow with the input.
    """
    with allocator.streaming():
        return _ingest(paths, out, options or ReadOptions(), progress)


def _ingest(paths: Sequence[Path | str | Source], out: Path, options: ReadOptions,
            progress: Progress | None) -> IngestResult:
    from auditor.metrics.runner import bucket_rows

    ensure_dir(out)
    tables_dir = ensure_dir(out / "tables")
    shutil.rmtree(out / "parts", ignore_errors=True)  # a previous ingest's, which would not match the tables
    building = Path(tempfile.mkdtemp(prefix=".parts-", dir=out))
    parts = part_count(_input_bytes(paths), bucket_rows())
    writers: dict[str, _BackgroundWriter] = {}
    splitters: dict[str, PartWriter] = {}
    provenance: list[Provenance] = []
    rejects: list[pa.Table] = []
    skipped: list[dict[str, str]] = []
    try:
        with ExitStack() as stack:  # on error: writers closed, temporary files removed, nothing renamed
            for source, explicit in sources(paths):
                file_read = _readable(source, explicit, options, skipped)
                if file_read is None:
                    continue
                kind = file_read.parser.kind
                if kind not in writers:
                    temp = stack.enter_context(atomic_path(tables_dir / f"{kind}.parquet"))
                    writers[kind] = _BackgroundWriter(fast_writer(temp, schemas.get(kind).arrow))
                    stack.callback(writers[kind].abandon)
                    splitters[kind] = PartWriter(building / kind, parts)
                    stack.callback(splitters[kind].abandon)
                for batch in file_read.batches():
                    writers[kind].write_batch(batch)
                    splitters[kind].write(batch)
                    if progress:
                        progress(source.name, batch.num_rows)
                provenance.append(file_read.provenance)
                rejects.append(file_read.rejects)
            for kind, writer in writers.items():
                writer.close()  # the last batches written (or the writer's error raised) before the files are renamed
                splitters[kind].close()
        Layout(parts, {kind: splitter.rows.tolist() for kind, splitter in splitters.items()}).write(building)
        building.rename(out / "parts")
    finally:
        shutil.rmtree(building, ignore_errors=True)
    rejects_path = out / "rejects.parquet"
    with atomic_path(rejects_path) as tmp:
        pq.write_table(pa.concat_tables(rejects) if rejects else REJECTS_SCHEMA.empty_table(), tmp)
    summary = {"schema_version": 1, "files": [p.to_dict() for p in provenance], "skipped": skipped}
    write_text(out / "provenance.json", json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n")
    return IngestResult(
        out=out,
        tables={kind: tables_dir / f"{kind}.parquet" for kind in writers},
        rejects=rejects_path,
        provenance=provenance,
        skipped=skipped,
    )
