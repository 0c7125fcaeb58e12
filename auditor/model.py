"""Value types passed between stages: provenance of an input, and a loaded dataset."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from auditor.io.parts import LEFT_BEHIND, ROW_NUMBER, part_of


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
    from ``sql``, and one agent's rows are read from the part of the read's person partition that holds them
    (``PartIndex``), so no step holds a whole kind in memory. ``tables`` still reads a kind into memory if a caller
    asks for one.
    """

    tables: Mapping[str, pa.Table]
    rejects: pa.Table
    provenance: list[Provenance]
    skipped: list[dict[str, str]] = field(default_factory=list)
    workspace: Path | None = None
    _keep: Any = field(default=None, repr=False, compare=False)  # a temporary workspace lives as long as this
    _by_agent: dict[str, AgentIndex] = field(default_factory=dict, init=False, repr=False, compare=False)
    _identified: pa.Table | None = field(default=None, init=False, repr=False, compare=False)

    def kinds(self) -> list[str]:
        """The kinds present, sorted (never reads a table)."""
        return sorted(self.tables)

    def agents(self) -> list[str]:
        if self.workspace is not None:
            return sorted({v for v in self._identifiers().column("agent").to_pylist() if v is not None})
        found: set[str] = set()
        for table in self.tables.values():
            found.update(v for v in pc.unique(table.column("agent")).to_pylist() if v is not None)
        return sorted(found)

    def agent_rows(self, kind: str, agent: str) -> pa.Table:
        """The rows of ``kind`` about ``agent``, in input order (an empty table when there are none).

        Cost: the first call for a kind builds its index (``index_by_agent``); every later call is a
        dictionary lookup and a zero-copy slice (in memory) or of the part holding them, sorted once per part.
        """
        return self.rows_of(kind, (agent,))

    def rows_of(self, kind: str, agents: Iterable[str]) -> pa.Table:
        """The rows of ``kind`` about any of ``agents``, in input order (one person's several identifiers), without
        the provenance columns (``LEFT_BEHIND``: a workspace's parts do not hold them; ``files_of`` names the files
        the rows came from)."""
        return _without_provenance(self._agent_index(kind).rows(sorted(set(agents))))

    def rows_in(self, kind: str) -> int:
        """How many rows ``kind`` has (a workspace's from its file's metadata, without reading it)."""
        path = self.parquet(kind)
        if path is None:
            return self.tables[kind].num_rows
        import pyarrow.parquet as pq

        rows: int = pq.read_metadata(path).num_rows
        return rows

    def reading_place(self, kind: str, agent: str) -> int:
        """Where ``agent``'s rows lie in the per-agent index of ``kind`` (opened if need be): people read in this
        order read each of a workspace's parts once."""
        return self._agent_index(kind).place(agent)

    def files_of(self) -> dict[str, list[tuple[str | None, str]]]:
        """The (tool, input file) pairs each identifier's rows came from, in one query over every kind."""
        found: dict[str, list[tuple[str | None, str]]] = {}
        rows = self._identifiers()
        for agent, tool, file in zip(*(rows.column(n).to_pylist() for n in ("agent", "tool", "source_file")),
                                     strict=True):
            if agent is not None:
                found.setdefault(agent, []).append((tool, file))
        return found

    def _identifiers(self) -> pa.Table:
        """Every distinct (agent, tool, source_file) of every kind, from one scan kept for the dataset's life:
        ``agents``, ``tool_agents`` and ``files_of`` read it (three scans of a workspace's files before, 0.25 s of
        the reports' preparation at 10 M fixes)."""
        if self._identified is None and not self.tables:
            self._identified = pa.schema({name: pa.string() for name in ("agent", "tool", "source_file")}).empty_table()
        if self._identified is None:
            self._identified = self.sql(" UNION ".join(f"SELECT DISTINCT agent, tool, source_file FROM {kind}"
                                                       for kind in self.kinds()))
        return self._identified

    def filtered_rows(self, kind: str, agents: Iterable[str]) -> pa.Table:
        """The rows ``rows_of`` gives, by one filtered read of the kind instead of through the per-agent index.

        Cost: one pass over the kind (a workspace file is scanned by DuckDB, only the matching rows are kept), no
        index: the right read for one person of a workspace whose parts may need a split. A batch of people should
        use ``rows_of``, whose index makes each person's read a slice of a part sorted once.
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
        """Open every kind's per-agent index now (a workspace without matching parts is split once): before
        forking workers, so that they share it."""
        for kind in self.kinds():
            self._agent_index(kind)

    def tool_agents(self) -> set[tuple[str, str]]:
        """Every (tool, agent) pair present (neither missing)."""
        if self.workspace is None:
            return tool_agent_pairs(self.tables.values())
        rows = self._identifiers()
        return {(str(tool), str(agent)) for tool, agent in zip(rows.column("tool").to_pylist(),
                                                               rows.column("agent").to_pylist(), strict=True)
                if tool is not None and agent is not None}

    def _agent_index(self, kind: str) -> AgentIndex:
        if kind not in self.tables:
            raise KeyError(kind)
        if kind not in self._by_agent:
            path = self.parquet(kind)
            if path is not None and self.workspace is not None:
                scratch = self.workspace / "by_agent" / kind  # where a split is made if the parts do not match
                self._by_agent[kind] = PartIndex(kind, path, self.workspace / "parts", scratch)
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
        with self.connection() as con:
            result: pa.Table = con.sql(query, params=parameters or None).to_arrow_table()
            return result

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """The connection ``sql`` queries, for several queries on one (each connection costs ~20 ms to open)."""
        from auditor import schemas

        with _connect(self.workspace / "spill" if self.workspace is not None else None) as con:
            for kind in schemas.KINDS:
                path = self.parquet(kind)
                if path is not None:
                    con.read_parquet(str(path)).create_view(kind)
                else:
                    con.register(kind, self.tables[kind] if kind in self.tables else schemas.empty_table(kind))
            yield con

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
    """One kind's rows reachable by agent."""

    def place(self, agent: str) -> int:
        """Where ``agent``'s rows lie: a batch of people read in this order reads what is stored once."""
        ...

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

    def place(self, agent: str) -> int:
        return self.bounds.get(agent, (self.ordered.num_rows, 0))[0]

    def rows(self, agents: list[str]) -> pa.Table:
        spans = [self.bounds[agent] for agent in agents if agent in self.bounds]
        if len(spans) <= 1:
            start, stop = spans[0] if spans else (0, 0)
            return self.ordered.slice(start, stop - start)
        positions = pa.concat_arrays([self.order.slice(start, stop - start) for start, stop in spans])
        return self.table.take(positions.take(pc.sort_indices(positions)))


#: The input position of a row in a part, to give several identifiers' rows back in input order.
INPUT_ROW = ROW_NUMBER


class PartIndex:
    """A workspace kind's rows by agent, read from its person partition (``io/parts.py``).

    Each part holds every row of its identifiers in input order, so a part sorted stably by agent holds each
    agent's rows as one range. Cost: nothing up front; the first lookup in a part maps its file and sorts it (one
    take of its rows); each process keeps the last part it sorted, so people read in part order (``place``) sort
    each part once. This replaced a copy of every kind sorted by agent written to Parquet before the reports
    (10 M fixes: 2.7 s on one core, then each person's row groups decoded again). Rows without an agent are
    nobody's: in no range.
    """

    def __init__(self, kind: str, source: Path, parts: Path, scratch: Path) -> None:
        """The index of ``kind`` (its table: ``source``) over the workspace's parts (``parts``), or, where they do
        not match the table (a workspace of merged uploads), over a split of the table into ``scratch`` made now."""
        self.kind, self.source, self.parts_root, self.scratch = kind, source, parts, scratch
        self._last: tuple[int, int, pa.Table, dict[str, tuple[int, int]]] | None = None
        self._open()

    def _open(self) -> None:
        import pyarrow.parquet as pq

        from auditor.io.parts import Layout, matches, split_file
        from auditor.metrics.runner import split_part_count

        self._last = None
        self.layout = Layout.read(self.parts_root)
        if self.layout is not None and matches(self.layout, self.kind, self.source):
            self.folder, self.parts = self.parts_root / self.kind, self.layout.parts
        else:
            import shutil

            self.layout = None
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.folder, self.parts = self.scratch, split_part_count(pq.read_metadata(self.source).num_rows)
            split_file(self.source, self.folder, self.parts)
        self.schema = _part_schema(pq.read_schema(self.source))

    def _stale(self, agents: list[str]) -> bool:
        """Whether an audit has split the workspace's parts finer since this index was opened
        (``MetricRunner._split_parts``); ``layout.json`` is read again only when a part is about to be read."""
        from auditor.io.parts import Layout

        if self.layout is None:
            return False
        last = self._last
        if last is not None and last[0] == os.getpid() and all(self.place(agent) == last[1] for agent in agents):
            return False
        return Layout.read(self.parts_root) != self.layout

    def place(self, agent: str) -> int:
        """Where ``agent``'s rows lie: its part."""
        return part_of(agent, self.parts)

    def rows(self, agents: list[str]) -> pa.Table:
        if self._stale(agents):
            self._open()
        pieces = []
        for agent in sorted(agents, key=self.place):
            held, bounds = self._part(self.place(agent))
            if agent in bounds:
                start, stop = bounds[agent]
                pieces.append(held.slice(start, stop - start))
        if not pieces:
            return self.schema.empty_table().drop_columns([INPUT_ROW])
        table = pa.concat_tables(pieces)
        if len(pieces) > 1:
            table = table.sort_by(INPUT_ROW)
        return table.drop_columns([INPUT_ROW])

    def _part(self, part: int) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
        """One part sorted by agent and each agent's range in it (the last one asked for is kept, per process)."""
        from auditor.io.buckets import read_bucket

        pid = os.getpid()
        if self._last is None or self._last[:2] != (pid, part):
            self._last = None  # the previous part is let go before the next one is sorted
            held = read_bucket(self.folder, part)
            if held is None:
                held = self.schema.empty_table()
            ordered, bounds = _by_agent(held)
            plain = [c.cast(f.type) if pa.types.is_dictionary(c.type) else c  # codes of the parts (``ENCODED``)
                     for c, f in zip(ordered.columns, self.schema, strict=True)]
            self._last = (pid, part, pa.Table.from_arrays(plain, schema=self.schema), bounds)
        return self._last[2], self._last[3]


def _by_agent(held: pa.Table) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    """``held`` (rows in input order) sorted stably by agent, and each agent's range: a sort of each agent's number
    in order of appearance (a radix sort when fewer than 32,768 agents); rows without one go last, in no range."""
    import numpy as np

    encoded: Any = pc.dictionary_encode(held.column("agent").combine_chunks())  # (the parts' codes as they are)
    size = len(encoded.dictionary)
    values = np.asarray(encoded.indices.fill_null(size).to_numpy(zero_copy_only=False))
    if size < 1 << 15:
        values = values.astype(np.int16)
    counts = np.bincount(values, minlength=size + 1)
    ends = np.cumsum(counts)
    present = np.flatnonzero(counts[:size])  # a part's dictionary names the other parts' agents too
    names = encoded.dictionary.take(pa.array(present, pa.int64())).to_pylist()
    bounds = {name: (int(ends[i] - counts[i]), int(ends[i])) for i, name in zip(present.tolist(), names, strict=True)}
    return held.take(np.argsort(values, kind="stable")), bounds


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
