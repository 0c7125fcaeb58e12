"""Value types passed between stages: provenance of an input, and a loaded dataset."""

from __future__ import annotations

import bisect
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from auditor.io.parts import LEFT_BEHIND, ROW_NUMBER


@dataclass
class Provenance:
    """Where a table's rows came from, and how much of the file became rows."""

    file: str
    path: str
    sha256: str
    size: int
    parser: str
    parser_version: str
    kind: str
    tool: str
    confidence: float
    encoding: str
    encoding_how: str
    timezone: str
    rows_in: int = 0
    rows_parsed: int = 0
    rows_rejected: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    candidates: list[tuple[str, float]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_parsed + self.rows_rejected

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Dataset:
    """Canonical tables by kind, the rejects, and one provenance per input file.

    Reports need one agent's rows many times over: ``rows_of`` goes through a per-kind index by agent
    built once, instead of scanning the whole table for every agent. A large input is kept in a Parquet
    ``workspace`` (``tables/<kind>.parquet``): metrics then run on it out of core, whole-kind figures come
    from ``sql``, and one agent's rows are read from a copy of the kind sorted by agent, so no step holds
    a whole kind in memory. ``tables`` still reads a kind into memory if a caller asks for one.
    """

    tables: Mapping[str, pa.Table]
    rejects: pa.Table
    provenance: list[Provenance]
    skipped: list[dict[str, str]] = field(default_factory=list)
    workspace: Path | None = None
    _keep: Any = field(default=None, repr=False, compare=False)  # a temporary workspace lives as long as this
    _by_agent: dict[str, AgentIndex] = field(default_factory=dict, init=False, repr=False, compare=False)

    def kinds(self) -> list[str]:
        """The kinds present, sorted (never reads a table)."""
        return sorted(self.tables)

    def agents(self) -> list[str]:
        if self.workspace is not None:
            rows = self.sql(" UNION ".join(f"SELECT DISTINCT agent FROM {kind}" for kind in self.tables))
            return sorted(v for v in rows.column("agent").to_pylist() if v is not None) if self.tables else []
        found: set[str] = set()
        for table in self.tables.values():
            found.update(v for v in pc.unique(table.column("agent")).to_pylist() if v is not None)
        return sorted(found)

    def agent_rows(self, kind: str, agent: str) -> pa.Table:
        """The rows of ``kind`` about ``agent``, in input order (an empty table when there are none).

        Cost: the first call for a kind builds its index (``index_by_agent``); every later call is a
        dictionary lookup and a zero-copy slice (in memory) or a read of the few row groups holding them.
        """
        return self.rows_of(kind, (agent,))

    def rows_of(self, kind: str, agents: Iterable[str]) -> pa.Table:
        """The rows of ``kind`` about any of ``agents``, in input order (one person's several identifiers), without
        the provenance columns (``LEFT_BEHIND``: a workspace's copy sorted by agent does not hold them; ``files_of``
        names the files the rows came from)."""
        return _without_provenance(self._agent_index(kind).rows(sorted(set(agents))))

    def rows_in(self, kind: str) -> int:
        """How many rows ``kind`` has (a workspace's from its file's metadata, without reading it)."""
        path = self.parquet(kind)
        if path is None:
            return self.tables[kind].num_rows
        import pyarrow.parquet as pq

        rows: int = pq.read_metadata(path).num_rows
        return rows

    def row_order(self, kind: str) -> dict[str, int]:
        """Where each identifier's rows begin in the per-agent index of ``kind`` (built if need be): people read in
        this order read a workspace's sorted copy front to back, each row group decoded once."""
        return {agent: start for agent, (start, _) in self._agent_index(kind).bounds.items()}

    def files_of(self) -> dict[str, list[tuple[str | None, str]]]:
        """The (tool, input file) pairs each identifier's rows came from, in one query over every kind."""
        found: dict[str, list[tuple[str | None, str]]] = {}
        if not self.tables:
            return found
        rows = self.sql(" UNION ".join(f"SELECT DISTINCT agent, tool, source_file FROM {kind} WHERE agent IS NOT NULL"
                                       for kind in self.kinds()))
        for agent, tool, file in zip(*(rows.column(n).to_pylist() for n in ("agent", "tool", "source_file")),
                                     strict=True):
            found.setdefault(agent, []).append((tool, file))
        return found

    def filtered_rows(self, kind: str, agents: Iterable[str]) -> pa.Table:
        """The rows ``rows_of`` gives, by one filtered read of the kind instead of through the per-agent index.

        Cost: one pass over the kind (a workspace file is scanned by DuckDB, only the matching rows are kept), no
        sorted copy and no index: the right read for one person. A batch of people should use ``rows_of``, whose
        index makes each person's read a few row groups.
        """
        if kind not in self.tables:
            raise KeyError(kind)
        wanted = sorted(set(agents))
        path = self.parquet(kind)
        if path is None or self.workspace is None:
            table = self.tables[kind]
            return _without_provenance(
                table.filter(pc.is_in(table.column("agent"), value_set=pa.array(wanted, pa.string()))))
        schema = _without_provenance(self.schema_of(kind).empty_table()).schema
        query = (f"SELECT * FROM read_parquet($path, file_row_number = true) WHERE agent IN (SELECT unnest($agents)) "
                 f"ORDER BY {INPUT_ROW}")
        with _connect(self.workspace / "spill") as con:
            found: pa.Table = con.sql(query, params={"path": str(path), "agents": wanted}).to_arrow_table()
        return found.select(schema.names).cast(schema)

    def index_by_agent(self) -> None:
        """Build every kind's per-agent index now: before forking workers, so that they share it."""
        for kind in self.kinds():
            self._agent_index(kind)

    def tool_agents(self) -> set[tuple[str, str]]:
        """Every (tool, agent) pair present (neither missing)."""
        if self.workspace is None:
            return tool_agent_pairs(self.tables.values())
        if not self.tables:
            return set()
        rows = self.sql(" UNION ".join(f"SELECT DISTINCT tool, agent FROM {kind} WHERE tool IS NOT NULL "
                                       "AND agent IS NOT NULL" for kind in self.tables))
        return {(str(tool), str(agent)) for tool, agent in zip(rows.column("tool").to_pylist(),
                                                               rows.column("agent").to_pylist(), strict=True)}

    def _agent_index(self, kind: str) -> AgentIndex:
        if kind not in self.tables:
            raise KeyError(kind)
        if kind not in self._by_agent:
            path = self.parquet(kind)
            if path is not None and self.workspace is not None:
                self._by_agent[kind] = ParquetIndex.build(kind, path, self.workspace / "parts",
                                                          self.workspace / "by_agent" / f"{kind}.parquet")
            else:
                self._by_agent[kind] = MemoryIndex(self.tables[kind])
        return self._by_agent[kind]

    def schema_of(self, kind: str) -> pa.Schema:
        """The Arrow schema of ``kind`` as stored (the canonical one), without reading its rows."""
        path = self.parquet(kind)
        if path is None:
            return self.tables[kind].schema
        import pyarrow.parquet as pq

        return pq.read_schema(path)

    def sql(self, query: str, **parameters: Any) -> pa.Table:
        """The result of a DuckDB ``query`` over the canonical tables (each kind is a table of that name).

        Cost: registering the tables is zero-copy (a workspace's Parquet files are scanned, not loaded,
        under the metrics' memory limit, spilling beyond it); the query runs on every core; bind values as
        ``$name`` parameters, never pasted into the text. Empty kinds are present with their schema.
        """
        from auditor import schemas

        with _connect(self.workspace / "spill" if self.workspace is not None else None) as con:
            for kind in schemas.KINDS:
                path = self.parquet(kind)
                if path is not None:
                    con.read_parquet(str(path)).create_view(kind)
                else:
                    con.register(kind, self.tables[kind] if kind in self.tables else schemas.empty_table(kind))
            result: pa.Table = con.sql(query, params=parameters or None).to_arrow_table()
            return result

    def parquet(self, kind: str) -> Path | None:
        """The workspace file of ``kind``, if this dataset is kept in one."""
        if self.workspace is None:
            return None
        path = self.workspace / "tables" / f"{kind}.parquet"
        return path if path.exists() else None

    @classmethod
    def in_workspace(cls, workspace: Path, rejects: pa.Table, provenance: list[Provenance],
                     skipped: list[dict[str, str]], keep: tempfile.TemporaryDirectory[str] | None = None) -> Dataset:
        kinds = {p.stem: p for p in sorted((workspace / "tables").glob("*.parquet"))}
        return cls(ParquetTables(kinds), rejects, provenance, skipped, workspace, keep)


def tool_agent_pairs(tables: Iterable[pa.Table]) -> set[tuple[str, str]]:
    """Every (tool, agent) pair in ``tables`` (neither missing)."""
    found: set[tuple[str, str]] = set()
    for table in tables:
        distinct = table.select(["tool", "agent"]).group_by(["tool", "agent"]).aggregate([])
        found.update((tool, agent) for tool, agent in zip(distinct.column("tool").to_pylist(),
                                                          distinct.column("agent").to_pylist(), strict=True)
                     if tool is not None and agent is not None)
    return found


@contextmanager
def _connect(spill: Path | None) -> Iterator[Any]:
    """The metrics' DuckDB connection (``metrics.runner.connect``), closed after use; a big scan may spill."""
    from auditor.metrics.runner import connect

    con = connect(spill)
    try:
        if spill is not None:
            con.execute("SET preserve_insertion_order = false")  # only ORDER BY orders: lets big scans spill
        yield con
    finally:
        con.close()


class ParquetTables(Mapping[str, pa.Table]):
    """Canonical tables kept as Parquet files, each read into memory on first access only."""

    def __init__(self, paths: Mapping[str, Path]) -> None:
        self._paths = dict(paths)
        self._loaded: dict[str, pa.Table] = {}

    def __getitem__(self, kind: str) -> pa.Table:
        if kind not in self._loaded:
            import pyarrow.parquet as pq

            self._loaded[kind] = pq.read_table(self._paths[kind])
        return self._loaded[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._paths  # Mapping's default would read the table to find out

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


class AgentIndex(Protocol):
    """One kind's rows reachable by agent, each agent's a range ``bounds[agent]`` of the kind sorted by agent."""

    bounds: dict[str, tuple[int, int]]

    def rows(self, agents: list[str]) -> pa.Table:
        """The rows of ``agents`` (sorted, distinct) in input order."""
        ...


class MemoryIndex:
    """An in-memory table sorted by agent (stable: input order within an agent) and each agent's row range.

    Cost: one sort, O(n log n), and one copy of the table; a lookup is then a zero-copy slice.
    """

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        keys: Any = [("agent", "ascending", "at_end")]  # nulls last (the stubs know only two-item keys)
        self.order = pc.sort_indices(table, sort_keys=keys)  # a stable sort: input order within an agent
        self.ordered = table.take(self.order)
        self.bounds: dict[str, tuple[int, int]] = {}
        if self.ordered.num_rows:
            _add_runs(self.bounds, self.ordered.column("agent"), 0)

    def rows(self, agents: list[str]) -> pa.Table:
        spans = [self.bounds[agent] for agent in agents if agent in self.bounds]
        if len(spans) <= 1:
            start, stop = spans[0] if spans else (0, 0)
            return self.ordered.slice(start, stop - start)
        positions = pa.concat_arrays([self.order.slice(start, stop - start) for start, stop in spans])
        return self.table.take(positions.take(pc.sort_indices(positions)))


#: Rows per row group of a kind sorted by agent: a person's rows are read in a few small decodes.
SORTED_ROW_GROUP = 8192
#: The input position of a row in a sorted copy, to give several identifiers' rows back in input order.
INPUT_ROW = ROW_NUMBER


class ParquetIndex:
    """A workspace kind copied sorted by agent (input order within an agent) and each agent's row range.

    Cost: one pass over the kind's parts, each sorted in memory and streamed to Parquet in row groups of
    ``SORTED_ROW_GROUP``; memory holds one part and the agents' ranges. One agent's rows are then a read of the
    row groups that hold them, without the provenance columns the parts leave behind. Rows without an agent are
    nobody's: left out.
    """

    def __init__(self, path: Path, schema: pa.Schema, bounds: dict[str, tuple[int, int]]) -> None:
        import pyarrow.parquet as pq

        self.path, self.schema, self.bounds = path, schema, bounds
        meta = pq.read_metadata(path)
        self.starts = [0]
        for group in range(meta.num_row_groups):
            self.starts.append(self.starts[-1] + meta.row_group(group).num_rows)
        self._file: tuple[int, Any] | None = None
        self._last: tuple[int, int, pa.Table] | None = None  # (process, row group, its rows)

    @classmethod
    def build(cls, kind: str, source: Path, parts: Path, target: Path) -> ParquetIndex:
        """Copy ``kind`` (its table: ``source``) sorted by agent into ``target`` (written atomically) and index it.

        Made of the person partition the read wrote (``parts``, ``io/parts.py``): each part holds every row of its
        identifiers in input order, so one part at a time is sorted (stably, by agent) and appended, in one pass
        that reads the parts mapped and sorts no more than a part in memory. A workspace without parts matching
        its tables is split into parts first, as the read does. (It used to split the table into buckets of
        agents of its own: a second partition of every row, 21 s and 1 GB for 25 M Squid lines.)
        """
        import shutil

        import pyarrow.parquet as pq

        from auditor.io.buckets import read_bucket
        from auditor.io.output import atomic_path, ensure_dir
        from auditor.io.parquet_files import fast_writer
        from auditor.io.parts import Layout, matches, split_file
        from auditor.metrics.runner import split_part_count

        schema = pq.read_schema(source)
        layout = Layout.read(parts)
        scratch = ensure_dir(target.parent) / f".{target.stem}.parts"
        shutil.rmtree(scratch, ignore_errors=True)
        bounds: dict[str, tuple[int, int]] = {}
        try:
            if layout is not None and matches(layout, kind, source):
                folder, count = parts / kind, layout.parts
            else:
                folder = scratch
                count = split_part_count(pq.read_metadata(source).num_rows)
                split_file(source, folder, count)
            stored = _part_schema(schema)
            with atomic_path(target) as temp, fast_writer(temp, stored, row_numbers=(INPUT_ROW,)) as out:
                done = 0
                for part in range(count):
                    held = read_bucket(folder, part)
                    if held is None:
                        continue
                    if held.column("agent").null_count:  # rows without an agent are nobody's: left out
                        held = held.filter(pc.is_valid(held.column("agent")))
                    ordered = held.take(_agent_order(held.column("agent")))
                    out.write_table(pa.Table.from_arrays(ordered.columns, schema=stored),
                                    row_group_size=SORTED_ROW_GROUP)
                    _add_runs(bounds, ordered.column("agent"), done)
                    done += ordered.num_rows
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            pa.default_memory_pool().release_unused()  # a part's sorted rows, kept by pyarrow's allocator otherwise
        return cls(target, stored.remove(stored.get_field_index(INPUT_ROW)), bounds)

    def rows(self, agents: list[str]) -> pa.Table:
        spans = [self.bounds[agent] for agent in agents if agent in self.bounds]
        if not spans:
            return self.schema.empty_table()
        table = pa.concat_tables([self._read(start, stop) for start, stop in spans])
        if len(spans) > 1:
            table = table.sort_by(INPUT_ROW)
        return table.drop_columns([INPUT_ROW])

    def _read(self, start: int, stop: int) -> pa.Table:
        """Rows [start, stop) of the sorted file: only the row groups that hold them are decoded, and the last
        one decoded is kept, since the next agent's rows (a batch goes in agent order) usually begin in it."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_left(self.starts, stop) - 1
        groups = [self._group(group) for group in range(first, last + 1)]
        table = groups[0] if len(groups) == 1 else pa.concat_tables(groups)
        return table.slice(start - self.starts[first], stop - start)

    def _group(self, group: int) -> pa.Table:
        """One decoded row group (the last one asked for is kept; in each process its own)."""
        pid = os.getpid()
        if self._last is None or self._last[:2] != (pid, group):
            self._last = (pid, group, self._parquet().read_row_group(group, use_threads=False))
        return self._last[2]

    def _parquet(self) -> Any:
        """The open sorted file, reopened in a forked worker (each process reads through its own handle)."""
        if self._file is None or self._file[0] != os.getpid():
            import pyarrow.parquet as pq

            self._file = (os.getpid(), pq.ParquetFile(self.path))
        return self._file[1]


def _agent_order(agents: pa.ChunkedArray[Any]) -> Any:
    """The rows of a part in agent order, input order within an agent (the part's rows came in input order): a
    stable sort of each agent's number in order of appearance (a radix sort when fewer than 32,768 agents)."""
    import numpy as np

    encoded: Any = pc.dictionary_encode(agents.combine_chunks())
    values = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    if len(encoded.dictionary) < 1 << 15:
        values = values.astype(np.int16)
    return np.argsort(values, kind="stable")


def _part_schema(schema: pa.Schema) -> pa.Schema:
    """The columns a kind's parts hold (``io/parts.py``): its own but the provenance ones, and the row number."""
    return pa.schema([f for f in schema if f.name not in LEFT_BEHIND]).append(pa.field(INPUT_ROW, pa.int64()))


def _without_provenance(table: pa.Table) -> pa.Table:
    """``table`` without the provenance columns (zero-copy)."""
    return table.drop_columns([name for name in LEFT_BEHIND if name in table.column_names])


def _add_runs(bounds: dict[str, tuple[int, int]], agents: pa.ChunkedArray[Any] | pa.Array[Any], offset: int) -> None:
    """Record the row range of each run of equal agents in ``agents`` (rows ``offset``…), extending a
    range that a previous batch ended with; missing agents get none."""
    compute: Any = pc
    column = agents.combine_chunks() if isinstance(agents, pa.ChunkedArray) else agents
    runs = compute.run_end_encode(column)
    start = offset
    for value, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
        if value is not None:
            begin = bounds[value][0] if value in bounds and bounds[value][1] == start else start
            bounds[value] = (begin, offset + end)
        start = offset + end
