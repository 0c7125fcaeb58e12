"""Value types passed between stages: provenance of an input, and a loaded dataset."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


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

    Reports need one agent's rows many times over: ``agent_rows`` sorts a kind by agent once and then
    hands out zero-copy slices, instead of scanning the whole table for every agent. A large input is
    kept in a Parquet ``workspace`` (``tables/<kind>.parquet``): metrics then run on it out of core, and
    ``tables`` reads a kind into memory only when a caller asks for it.
    """

    tables: Mapping[str, pa.Table]
    rejects: pa.Table
    provenance: list[Provenance]
    skipped: list[dict[str, str]] = field(default_factory=list)
    workspace: Path | None = None
    _keep: Any = field(default=None, repr=False, compare=False)  # a temporary workspace lives as long as this
    _by_agent: dict[str, tuple[pa.Table, pa.Array[Any], dict[str, tuple[int, int]]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

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

        Cost: the first call for a kind sorts it by agent (a stable sort, O(n log n), one copy of the
        table); every later call is a dictionary lookup and a zero-copy slice.
        """
        ordered, _, bounds = self._agent_index(kind)
        start, stop = bounds.get(agent, (0, 0))
        return ordered.slice(start, stop - start)

    def rows_of(self, kind: str, agents: Iterable[str]) -> pa.Table:
        """The rows of ``kind`` about any of ``agents``, in input order (one person's several identifiers)."""
        ordered, order, bounds = self._agent_index(kind)
        spans = [bounds[agent] for agent in sorted(set(agents)) if agent in bounds]
        if len(spans) <= 1:
            start, stop = spans[0] if spans else (0, 0)
            return ordered.slice(start, stop - start)
        positions = pa.concat_arrays([order.slice(start, stop - start) for start, stop in spans])
        return self.tables[kind].take(positions.take(pc.sort_indices(positions)))

    def _agent_index(self, kind: str) -> tuple[pa.Table, pa.Array[Any], dict[str, tuple[int, int]]]:
        table = self.tables.get(kind)
        if table is None:
            raise KeyError(kind)
        if kind not in self._by_agent:
            self._by_agent[kind] = _index_by_agent(table)
        return self._by_agent[kind]

    def sql(self, query: str, **parameters: Any) -> pa.Table:
        """The result of a DuckDB ``query`` over the canonical tables (each kind is a table of that name).

        Cost: registering the tables is zero-copy (a workspace's Parquet files are scanned, not loaded);
        the query runs on every core; bind values as ``$name`` parameters, never pasted into the text.
        Empty kinds are present with their schema.
        """
        import duckdb

        from auditor import schemas

        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")
            for kind in schemas.KINDS:
                path = self.parquet(kind)
                if path is not None:
                    con.read_parquet(str(path)).create_view(kind)
                else:
                    con.register(kind, self.tables.get(kind, schemas.empty_table(kind)))
            result: pa.Table = con.sql(query, params=parameters or None).to_arrow_table()
            return result
        finally:
            con.close()


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

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _index_by_agent(table: pa.Table) -> tuple[pa.Table, pa.Array[Any], dict[str, tuple[int, int]]]:
    """``table`` sorted by agent (stable: input order within an agent), the sort's input positions, and
    each agent's row range."""
    keys: Any = [("agent", "ascending", "at_end")]  # nulls last (the stubs know only two-item keys)
    order = pc.sort_indices(table, sort_keys=keys)  # a stable sort: input order within an agent
    ordered = table.take(order)
    bounds: dict[str, tuple[int, int]] = {}
    if ordered.num_rows:
        compute: Any = pc
        runs = compute.run_end_encode(ordered.column("agent").combine_chunks())
        ends = runs.run_ends.to_pylist()
        start = 0
        for value, end in zip(runs.values.to_pylist(), ends, strict=True):
            if value is not None:
                bounds[value] = (start, end)
            start = end
    return ordered, order, bounds
