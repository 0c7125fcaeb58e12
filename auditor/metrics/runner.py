"""Run metric SQL files in DuckDB over canonical Arrow tables (zero-copy) or a Parquet workspace.

Everything a query needs is a table: the eight canonical kinds (empty ones registered too, so every
query runs), the policy (``policy_*``), and reference data (retention caps, lexicon patterns, schema
fields, tool capabilities). No value is ever pasted into SQL text. Results come back as Arrow tables
(DuckDB's Python objects for ``TIMESTAMP WITH TIME ZONE`` would need pytz, which is not installed).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditor import schemas
from auditor.errors import UsageError
from auditor.i18n import t
from auditor.io import allocator
from auditor.io.buckets import bucket_path
from auditor.io.output import ensure_dir
from auditor.io.parts import (
    MIN_ROW_BYTES,
    ROW_NUMBER,
    Layout,
    matches,
    pack,
    part_count,
    part_of,
    read_parts,
    split_file,
)
from auditor.metrics import fixes, linkage, per_agent, text_values
from auditor.metrics.catalog import MetricSpec, metrics, views
from auditor.metrics.placement import placed_events
from auditor.metrics.sequence import add_previous, marks_of
from auditor.policy import Policy, default_policy
from auditor.rules.reference import reference_tables

#: Below this many input rows one DuckDB thread is faster (measured: about 2x on test-sized inputs).
SMALL_INPUT_ROWS = 100_000
#: DuckDB's working memory: ``AUDITOR_MEMORY_LIMIT`` (e.g. ``1GB``), or by default this share of the machine's
#: memory, at most MEMORY_CAP_MB. Beyond it DuckDB spills to a temporary folder instead of growing, and the size of
#: the person buckets follows from it: the audit's memory is set, not driven by the input.
MEMORY_SHARE = 0.25
MEMORY_CAP_MB = 512
#: Memory one input row of a bucket needs while it is measured: its columns in Arrow, the events built from it (about
#: 100 bytes, twice while they are completed), the numpy and DuckDB work on them. Measured at 10 M fixes with two
#: workers: about 280 bytes a row above a fixed ~410 MB (peak 600 MB with buckets of 333 k rows, 785 MB with 666 k).
#: Counted as 500 since each worker keeps what a bucket freed for the next (``_measure_in_worker``): smaller buckets,
#: and a lower peak than 384 with the memory given back after each bucket (10 M fixes 769-793 against 816-846 MB).
BYTES_PER_BUCKET_ROW = 500
#: The width (bytes in a part's Arrow file) of the rows that figure was measured on (GPS fixes: 114 bytes with their
#: row number, 92 since tools and identifiers are codes); a part of wider rows weighs as many of these as its bytes
#: make (5 M Squid lines: 161 bytes a row, 175 as text; each weighing 1.46 rows, as when measured: at 1.34 their
#: peak rose from 879-906 to 935-1,005 MB).
BUCKET_ROW_WIDTH = 110
#: At most this many parts when the audit splits the read's parts finer (each part waits for a batch of its own).
MAX_SPLIT_PARTS = 1024
#: Fixed bucket size instead of the one the memory limit gives (tests use tiny buckets).
BUCKET_ROWS: int | None = None
#: Person buckets measured at the same time, each in a process of its own (``_in_workers``) on a DuckDB database
#: with one thread and its share of the memory setting: DuckDB keeps two threads busy on only part of a bucket's work.
BUCKET_WORKERS = max(1, min(2, os.cpu_count() or 1))
#: The per-person view whose building peaks (``_measure_in_worker``: one worker at a time builds it).
PEAK_VIEW = "events"
#: Rows per batch of an Arrow table DuckDB reads: a batch is a unit of work for one of its threads.
SCAN_BATCH_ROWS = 1 << 16


class Tables(Mapping[str, pa.Table]):
    """What a view or metric built in Python reads: each table its SQL reads, by name (held in Arrow already, or
    queried)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *held: Mapping[str, pa.Table]) -> None:
        self.con, self.held = con, held

    def __getitem__(self, name: str) -> pa.Table:
        for tables in self.held:
            if name in tables:
                return tables[name]
        table: pa.Table = self.con.sql(f"SELECT * FROM {name}").to_arrow_table()
        return table

    def __iter__(self) -> Iterator[str]:
        return iter({name for tables in self.held for name in tables})

    def __len__(self) -> int:
        return len(set(self))


#: Views built in Python from the tables they read, their SQL file staying their definition (tests hold the two
#: equal).
BUILT_IN_PYTHON: dict[str, Callable[[Tables], pa.Table]] = {
    "events": lambda tables: add_previous(*placed_events(tables)),
    "marks": lambda tables: marks_of(tables["events"]),
    "texts": text_values.texts,
}
#: Metrics computed in Python likewise (``metrics/per_agent.py``, ``metrics/fixes.py``: DuckDB's exact results,
#: several times faster).
COMPUTED_IN_PYTHON: dict[str, Callable[[Tables], pa.Table]] = {
    "activity_counts": lambda tables: per_agent.activity_counts(tables["events"]),
    "sampling_interval": lambda tables: per_agent.sampling_interval(tables["events"]),
    "gaps": lambda tables: per_agent.gaps(tables["events"], tables["policy_breaks"]),
    "time_windows": lambda tables: per_agent.time_windows(tables["events"]),
    "timestamp_resolution": lambda tables: per_agent.timestamp_resolution(tables["events"]),
    "retention": lambda tables: per_agent.retention(tables["events"], tables["retention_caps"],
                                                    tables["policy_retention"]),
    "linkage": lambda tables: linkage.linkage(tables["events"], tables["marks"], tables["shift_segments"],
                                              tables["policy_holidays"]),
    "coord_precision": fixes.coord_precision,
    "home_inference": fixes.home_inference,
    "tracking_controls": fixes.tracking_controls,
}
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_limit_bytes() -> int:
    """The DuckDB memory limit in bytes, from ``AUDITOR_MEMORY_LIMIT`` or the machine's memory."""
    chosen = os.environ.get("AUDITOR_MEMORY_LIMIT")
    if chosen:
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", chosen)
        unit = found.group(2).lower() if found else "?"
        if not found or unit not in _UNITS or float(found.group(1)) * _UNITS[unit] < 2**26:
            raise UsageError("memory-limit-invalid", value=chosen[:40])
        return int(float(found.group(1)) * _UNITS[unit])
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 2**31
    return max(2**27, min(MEMORY_CAP_MB << 20, int(total * MEMORY_SHARE)))


def memory_limit() -> str:
    """The DuckDB memory limit as DuckDB's setting reads it."""
    return f"{memory_limit_bytes() >> 20}MiB"


def split_part_count(rows: int) -> int:
    """How many parts a workspace of ``rows`` rows without the read's parts is split into (as many as the read
    makes for the shortest rows)."""
    return part_count(rows * MIN_ROW_BYTES, bucket_rows())


def bucket_rows() -> int:
    """Input rows per person bucket out of core: what each worker's share of the memory limit holds."""
    return BUCKET_ROWS or max(10_000, memory_limit_bytes() // BYTES_PER_BUCKET_ROW // BUCKET_WORKERS)


def connect(spill: Path | None = None, share: int = 1) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC, its progress bar off (it writes to stdout; ours is on stderr); with ``spill``,
    under the memory setting (divided by ``share``) and spilling into that folder beyond it."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if spill is not None:
        con.execute("SET memory_limit = $limit", {"limit": f"{memory_limit_bytes() // share >> 20}MiB"})
        con.execute("SET temp_directory = $dir", {"dir": str(spill)})
    return con


class MetricRunner:
    """One DuckDB connection holding the inputs; metrics run on demand, each at most once."""

    def __init__(
        self,
        tables: Mapping[str, pa.Table] | None = None,
        policy: Policy | None = None,
        *,
        parquet_dir: Path | None = None,
        extra: Mapping[str, pa.Table] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy or default_policy()
        self.progress = progress
        self._spill = tempfile.TemporaryDirectory(prefix="auditor-duckdb-")
        self.con = connect(Path(self._spill.name))
        self._completed: dict[str, pa.Table] = {}  # views completed in Python (one bucket's at a time)
        self._shared: dict[str, pa.Table] = {}  # every registered table, for the bucket workers' databases
        self.results: dict[str, pa.Table] = {}
        self._empty: dict[str, pa.Table] = {}  # results of metrics with no row to read (``_metric``)
        self._names: set[str] = set()
        tables = dict(tables or {})
        if parquet_dir is None and sum(t.num_rows for t in tables.values()) < SMALL_INPUT_ROWS:
            self.con.execute("SET threads = 1")  # thread start-up costs more than it saves on small inputs
        self.parquet_dir = parquet_dir
        on_disk = self._parquet_kinds()
        if on_disk:
            self._register_kinds()
        self._names.update(on_disk)
        for kind in schemas.KINDS:
            if kind not in on_disk:
                self.register(kind, tables.get(kind, schemas.empty_table(kind)))
        years = _arrow_years(tables) if parquet_dir is None else self._years()
        for name, table in self.policy.tables(years).items():
            self.register(name, table)
        tools = self._tools()
        references = reference_tables(tools)
        self.has_capabilities = references["tool_capabilities"].num_rows > 0
        for name, table in references.items():
            self.register(name, table)
        for name, table in (extra or {}).items():
            self.register(name, table)
        self.buckets = self._buckets() if parquet_dir is not None else 1
        for spec in views():
            if self.buckets == 1 or not per_person(spec):
                self._create(spec)
        self._bucket_parts: list[list[int]] = []  # each bucket's parts (``io/parts.py``)
        if self.buckets > 1:
            self._bucket_parts = self._packed_parts()
            self.buckets = len(self._bucket_parts)

    def register(self, name: str, table: pa.Table) -> None:
        self._shared[name] = table
        self.con.register(name, table)
        self._names.add(name)

    def _years(self) -> list[int]:
        """Calendar years the data spans (with a margin), for the public-holiday table."""
        parts = [
            f'SELECT min("{field}") AS low, max("{field}") AS high FROM {kind}'
            for kind in schemas.KINDS
            for field in schemas.get(kind).time_fields
        ]
        low, high = self.con.sql(
            f"SELECT year(min(low)), year(max(high)) FROM ({' UNION ALL '.join(parts)})"
        ).fetchall()[0]
        if low is None or high is None:
            return []
        return policy_years(low, high)

    def _tools(self) -> list[str]:
        union = " UNION ".join(f"SELECT DISTINCT tool FROM {kind}" for kind in schemas.KINDS)
        return sorted(str(r[0]) for r in self.con.sql(union).fetchall() if r[0] is not None)

    def _create(self, spec: MetricSpec, con: duckdb.DuckDBPyConnection | None = None,
                completed: dict[str, pa.Table] | None = None) -> None:
        """Create a macro or materialise a view on ``con`` (the runner's own by default); a view completed in
        Python is kept in ``completed`` while ``con`` reads it."""
        con = con or self.con
        completed = self._completed if completed is None else completed
        body = _strip_header(spec.sql)
        if spec.role == "macro":
            con.execute(body)
        elif spec.name in BUILT_IN_PYTHON:
            done = BUILT_IN_PYTHON[spec.name](Tables(con, completed, self._shared))
            # read in place, in batches both threads can share (as fast as a DuckDB table, without the copy)
            done = pa.Table.from_batches(done.to_batches(max_chunksize=SCAN_BATCH_ROWS), schema=done.schema)
            completed[spec.name] = done
            con.register(spec.name, done)
        else:  # materialise once: every metric reads it
            con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.name} AS {body}")
        if con is self.con and spec.role == "view":
            self._names.add(spec.name)

    def _buckets(self) -> int:
        """How many person buckets an out-of-core audit runs in (``bucket_rows()`` input rows each)."""
        rows = self.con.sql("SELECT " + " + ".join(f"(SELECT count(*) FROM {kind})" for kind in schemas.KINDS))
        return max(1, -(-int(rows.fetchall()[0][0]) // bucket_rows()))

    def _packed_parts(self) -> list[list[int]]:
        """The person buckets as sets of parts, each person's identifiers' parts in one bucket. The parts are the
        read's (``api.ingest`` writes them beside the tables); a workspace without them, or whose parts do not
        match its tables, or whose parts outgrew the buckets, is split here once more, in place of its parts: the
        personal reports read the same parts (``model.PartIndex``), one sorted at a time in each report process,
        so parts the size of a bucket keep theirs to a bucket's memory too."""
        assert self.parquet_dir is not None
        kinds = self._parquet_kinds()
        self._parts_dir = self.parquet_dir.parent / "parts"
        layout = Layout.read(self._parts_dir)
        split: int | None = None  # parts to split the tables into here (None: the read's parts serve)
        if layout is None or set(layout.rows) != set(kinds) or not all(
            matches(layout, kind, self.parquet_dir / f"{kind}.parquet") for kind in kinds
        ):
            split = split_part_count(sum(pq.read_metadata(self.parquet_dir / f"{kind}.parquet").num_rows
                                         for kind in kinds))
        else:
            rows = self._part_weights(layout, kinds)
            finer = -(-max(rows, default=0) // max(1, bucket_rows()))  # pieces for the largest part to fit
            if finer > 1 and layout.parts < MAX_SPLIT_PARTS:
                # the read's parts outgrew the buckets (it makes at most MAX_PARTS: past ~85 M fixes): split finer,
                # so that a bucket's memory stays the setting's (100 M Squid lines peaked at 1,119 MB without).
                # Not sooner: parts that fit make buckets less full, not larger, and a split is a second read
                # (50 M fixes: 26 s for buckets two parts each, where one part each fits)
                split = min(MAX_SPLIT_PARTS, layout.parts * finer)
        if split is not None:
            layout = self._split_parts(kinds, split)
            rows = self._part_weights(layout, kinds)
        assert layout is not None  # the read's, or made above
        linked: dict[str, set[int]] = {}
        for agent, person in self.con.sql("SELECT DISTINCT agent, person FROM identities").fetchall():
            linked.setdefault(person, set()).add(part_of(agent, layout.parts))
        return pack(rows, [parts for parts in linked.values() if len(parts) > 1], bucket_rows(), BUCKET_WORKERS)

    def _part_weights(self, layout: Layout, kinds: list[str]) -> list[int]:
        return [sum(_row_weight(layout.rows[kind][part], self._parts_dir / kind, part) for kind in kinds)
                for part in range(layout.parts)]

    def _split_parts(self, kinds: list[str], parts: int) -> Layout:
        """Split each kind's Parquet file into ``parts`` parts, as the read does, in place of the workspace's
        parts. The split reads the tables, not the parts, so those are removed first: the disk holds one set of
        parts at a time (100 M Squid lines: 17 GB each). The new ones are written beside and renamed once
        complete: if this fails, the workspace has no parts and the next audit splits it again."""
        assert self.parquet_dir is not None
        if self.progress:
            self.progress(t("progress.partition", None, parts=parts))
        stale = self._parts_dir.with_name(f".{self._parts_dir.name}.old")
        shutil.rmtree(stale, ignore_errors=True)
        if self._parts_dir.exists():
            self._parts_dir.rename(stale)  # at once: no reader finds a layout whose files are half removed
        shutil.rmtree(stale, ignore_errors=True)
        fresh = self._parts_dir.with_name(f".{self._parts_dir.name}.new")
        shutil.rmtree(fresh, ignore_errors=True)
        ensure_dir(fresh)
        with allocator.streaming():
            layout = Layout(parts, {kind: split_file(self.parquet_dir / f"{kind}.parquet", fresh / kind, parts)
                                    for kind in kinds})
        pa.default_memory_pool().release_unused()  # pyarrow's allocator keeps what it freed
        layout.write(fresh)
        fresh.rename(self._parts_dir)
        return layout

    def _parquet_kinds(self) -> list[str]:
        if self.parquet_dir is None:
            return []
        return [k for k in schemas.KINDS if (self.parquet_dir / f"{k}.parquet").exists()]

    def _register_kinds(self, bucket: int | None = None, con: duckdb.DuckDBPyConnection | None = None,
                        held: dict[str, pa.Table] | None = None) -> None:
        """Point each kind's name at its Parquet file, or at one person bucket of it (an Arrow file, mapped
        into memory and kept in ``held`` while ``con`` reads it)."""
        assert self.parquet_dir is not None
        con = con or self.con
        for kind in self._parquet_kinds():
            if bucket is None:
                con.read_parquet(str(self.parquet_dir / f"{kind}.parquet")).create_view(kind, replace=True)
                continue
            table = read_parts(self._parts_dir / kind, self._bucket_parts[bucket])
            table = (schemas.empty_table(kind) if table is None
                     else encoded_texts(kind, table.drop_columns([ROW_NUMBER])))
            if held is not None:
                held[kind] = table
            # a view (an Arrow table registered under the name would shadow the Parquet view put back after)
            con.from_arrow(table).create_view(kind, replace=True)

    def _run_bucketed(self, names: list[str]) -> None:
        """Per-person metrics, bucket by bucket: each bucket holds every row of its persons, so a metric's rows
        for a person (or one of their identifiers) are the same as over the whole input; memory is one bucket's
        per worker. Results are put together in bucket order, whichever worker finished first."""
        with allocator.streaming():  # each bucket allocates and frees the same large buffers
            self._measure_all(names)

    def _measure_all(self, names: list[str]) -> None:
        parts: dict[str, list[pa.Table | None]] = {name: [None] * self.buckets for name in names}
        workers = min(BUCKET_WORKERS, self.buckets)
        if workers == 1:
            held: dict[str, pa.Table] = {}
            for bucket in range(self.buckets):
                self._build_bucket(self.con, held, bucket)
                for name, result in self._measure_bucket(self.con, held, bucket, names, self.progress).items():
                    parts[name][bucket] = result
            for spec in self._bucket_views():
                if spec.name in held:
                    self.con.unregister(spec.name)
                else:
                    self.con.execute(f"DROP TABLE {spec.name}")
                self._names.discard(spec.name)
            self._register_kinds()
        else:
            if self.progress:  # named as it starts: the first bucket takes a second or more to come back
                self.progress(t("progress.buckets_done", None, done=0, buckets=self.buckets))
            for bucket, results in enumerate(self._in_workers(workers, names)):
                for name, result in results.items():
                    parts[name][bucket] = result
                if self.progress:
                    self.progress(t("progress.buckets_done", None, done=bucket + 1, buckets=self.buckets))
        for name, tables in parts.items():
            result = pa.concat_tables([t for t in tables if t is not None], promote_options="permissive")
            self.results[name] = result
            self.register(name, result)

    def _in_workers(self, workers: int, names: list[str]) -> Iterator[dict[str, pa.Table]]:
        """Each bucket's results in bucket order, measured by ``workers`` forked processes (threads where fork
        does not exist): Python's share of the work holds the GIL, so two threads ran 1.3x faster than one, two
        processes 1.5x (10 M fixes). Workers share the runner's tables through the fork, without copies."""
        common = {spec.name: self.con.sql(f"SELECT * FROM {spec.name}").to_arrow_table()
                  for spec in views() if spec.role == "view" and not per_person(spec)}
        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork") if fork else None
        building = context.Lock() if context else threading.Lock()
        _WORKING.update(runner=self, names=names, common=common, building=building)
        if context:  # what pyarrow's allocator keeps would be each process's to reuse, copied page by page
            pa.default_memory_pool().release_unused()
        pool: Executor = ProcessPoolExecutor(workers, mp_context=context) if context else ThreadPoolExecutor(workers)
        try:
            with pool:
                yield from pool.map(_measure_in_worker, range(self.buckets))
        finally:
            _WORKING.clear()
            for con in _WORKER_DATABASES.pop(os.getpid(), {}).values():  # threads' (a process's end with it)
                con.close()

    def _worker_database(self, common: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
        """This worker's database, opened at its first bucket: what the runner's holds but the kinds (``common``:
        the views that are not per person, made once), one thread and its share of the memory setting."""
        mine = _WORKER_DATABASES.setdefault(os.getpid(), {})
        thread = threading.get_ident()
        if thread not in mine:
            con = connect(Path(self._spill.name) / f"worker-{os.getpid()}-{thread}",
                          share=2 * BUCKET_WORKERS)  # half for the Arrow views
            con.execute("SET threads = 1")
            for name, table in {**self._shared, **common}.items():
                con.register(name, table)
            for spec in views():
                if spec.role == "macro":
                    self._create(spec, con)
            mine[thread] = con
        return mine[thread]

    def _build_bucket(self, con: duckdb.DuckDBPyConnection, held: dict[str, pa.Table], bucket: int,
                      peak: AbstractContextManager[Any] | None = None) -> None:
        """A bucket's kinds and per-person views on ``con``; ``held``: the tables ``con`` reads for the bucket.
        ``peak`` is held while the view whose building peaks is built (``_measure_in_worker``)."""
        self._register_kinds(bucket, con, held)
        for spec in self._bucket_views():
            with peak if peak is not None and spec.name == PEAK_VIEW else nullcontext():
                self._create(spec, con, held)

    def _measure_bucket(self, con: duckdb.DuckDBPyConnection, held: dict[str, pa.Table], bucket: int,
                        names: list[str], progress: Callable[[str], None] | None = None) -> dict[str, pa.Table]:
        """Every metric of ``names`` on a built bucket."""
        results = {}
        for name in names:
            if progress:
                progress(t("progress.bucket", None, bucket=bucket + 1, buckets=self.buckets, name=name))
            results[name] = self._metric(name, con, held)
            con.register(name, results[name])  # for a later metric of the same bucket that reads it
        return results

    @staticmethod
    def _bucket_views() -> list[MetricSpec]:
        return [spec for spec in views() if spec.role == "view" and per_person(spec)]

    def run(self, name: str) -> pa.Table:
        """The metric's rows as an Arrow table (dependencies first)."""
        if name in self.results:
            return self.results[name]
        spec = metrics()[name]
        for dependency in spec.requires:
            if dependency in metrics():
                self.run(dependency)
            elif not self._exists(dependency):
                raise KeyError(f"metric {name} needs table {dependency}, which was not registered")
        if self.buckets > 1 and per_person(spec):
            self._run_bucketed([name])
            return self.results[name]
        if self.progress:
            self.progress(t("progress.metric", None, name=name))
        result = self._metric(name, self.con, self._completed)
        self.results[name] = result
        self.register(name, result)
        return result

    def _metric(self, name: str, con: duckdb.DuckDBPyConnection, held: Mapping[str, pa.Table]) -> pa.Table:
        """One metric's rows, on ``con`` whose completed views are ``held`` (and a bucket's kinds, when bucketed:
        a bucket without any of the kinds the metric's rows come from gets its empty result without a query;
        10 M fixes: four metrics about clocks and web requests, 0.6 s of CPU)."""
        if name in COMPUTED_IN_PYTHON:
            return COMPUTED_IN_PYTHON[name](Tables(con, held, self._shared))
        spec = metrics()[name]
        if spec.empty_without and all(self._known_empty(kind, held) for kind in spec.empty_without):
            if name not in self._empty:  # its columns, once per process (a query that reads no row)
                self._empty[name] = con.sql(f"SELECT * FROM ({_strip_header(spec.sql)}) LIMIT 0").to_arrow_table()
            return self._empty[name]
        result: pa.Table = con.sql(_strip_header(spec.sql)).to_arrow_table()
        return result

    def _known_empty(self, kind: str, held: Mapping[str, pa.Table]) -> bool:
        """Whether ``kind`` is known to have no row here: a bucket's, or a table held in memory (a kind read from
        Parquet is not looked at)."""
        table = held.get(kind, self._shared.get(kind))
        return table is not None and table.num_rows == 0

    def _exists(self, name: str) -> bool:
        return name in self._names

    def run_all(self, names: list[str] | None = None) -> dict[str, pa.Table]:
        """Every metric whose inputs are available (metrics needing later stages are skipped)."""
        chosen = [
            name for name, spec in metrics().items()
            if (names is None or name in names) and all(d in metrics() or self._exists(d) for d in spec.requires)
        ]
        if self.buckets > 1:
            self._run_bucketed([n for n in chosen if per_person(metrics()[n]) and n not in self.results])
        for name in chosen:
            self.run(name)
        return dict(self.results)

    def close(self) -> None:
        self.con.close()
        self._spill.cleanup()

    def __enter__(self) -> MetricRunner:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


#: What the bucket workers measure for (set while they run; a forked worker finds it in its copy of the memory).
_WORKING: dict[str, Any] = {}
#: Each worker's database, by process and thread.
_WORKER_DATABASES: dict[int, dict[int, duckdb.DuckDBPyConnection]] = {}


def _measure_in_worker(bucket: int) -> dict[str, pa.Table]:
    """One bucket in a worker. One worker at a time builds a bucket's ``events`` (the moment its memory peaks: the
    events twice over while they are completed), so that two workers' peaks do not add up; the rest of the building
    (reading the parts, the smaller views) runs beside the other worker's (with the whole build locked, one worker
    waited for the other's at the start, and whenever both finished measuring together: 10 M fixes, the audit's wall
    time over its CPU 0.561 -> 0.546, peak about +20 MB). A worker keeps the memory a bucket freed, for the next one:
    given back to the system after each bucket, it was mapped and zeroed again (10 M fixes: 300 k page faults
    against 130 k, the pipeline 0.35 s slower); the bucket size counts it (``BYTES_PER_BUCKET_ROW``)."""
    runner: MetricRunner = _WORKING["runner"]
    held = dict(_WORKING["common"])
    con = runner._worker_database(_WORKING["common"])
    runner._build_bucket(con, held, bucket, peak=_WORKING["building"])
    return runner._measure_bucket(con, held, bucket, _WORKING["names"])


def encoded_texts(kind: str, table: pa.Table) -> pa.Table:
    """A bucket's kind with the text columns that views and metrics group by (tool, agent, the free texts)
    dictionary-encoded once, in one chunk: the events, the texts and the fixes' metrics read their codes instead of
    hashing the text again each (10 M fixes: 9.9 -> 9.1 s of CPU for every per-person metric)."""
    for name in ("tool", "agent", *(field for field, _ in text_values.SOURCES[kind])):
        index = table.schema.get_field_index(name)
        field = table.schema.field(index)
        if pa.types.is_string(field.type):
            encoded = pc.dictionary_encode(table.column(index).combine_chunks())
            table = table.set_column(index, pa.field(name, encoded.type, field.nullable), pa.chunked_array([encoded]))
        elif pa.types.is_dictionary(field.type):  # held as codes by the parts (``parts.ENCODED``), on one dictionary
            table = table.set_column(index, field, pa.chunked_array([table.column(index).combine_chunks()]))
    return table


def _arrow_years(tables: Mapping[str, pa.Table]) -> list[int]:
    """Like ``MetricRunner._years`` for in-memory tables, without a query (pyarrow min/max)."""
    years: list[int] = []
    for kind, table in tables.items():
        for field in schemas.get(kind).time_fields:
            bounds = pc.min_max(table.column(field))
            values = [bounds[key].as_py() for key in ("min", "max")]
            years += [v.year for v in values if v is not None]
    return policy_years(min(years), max(years)) if years else []


def _row_weight(rows: int, folder: Path, part: int) -> int:
    """A part's rows counted as rows of the width the bucket size was measured on (``BUCKET_ROW_WIDTH``): wider
    rows (URLs) count for more, so that a bucket holds about the same memory whatever the kind."""
    path = bucket_path(folder, part)
    size = path.stat().st_size if path.exists() else 0
    return max(rows, -(-size // BUCKET_ROW_WIDTH))


def per_person(spec: MetricSpec) -> bool:
    """Whether each row of a view or metric belongs to one person (it can then be computed bucket by bucket)."""
    return bool({"agent", "person"} & set(spec.grain))


def _strip_header(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--")).strip().rstrip(";")


def run_metrics(tables: Mapping[str, pa.Table], policy: Policy | None = None) -> dict[str, pa.Table]:
    """Convenience: every metric over in-memory canonical tables."""
    with MetricRunner(tables, policy) as runner:
        return runner.run_all()


def policy_years(low: int, high: int) -> list[int]:
    """The years whose holidays the policy tables hold: one either side, within what ``date`` can represent."""
    return list(range(max(low - 1, 1), min(high + 2, 10_000)))
