"""Run metric SQL files in DuckDB over canonical Arrow tables (zero-copy) or a Parquet workspace.

Everything a query needs is a table: the eight canonical kinds (empty ones registered too, so every
query runs), the policy (``policy_*``), and reference data (retention caps, lexicon patterns, schema
fields, tool capabilities). No value is ever pasted into SQL text. Results come back as Arrow tables
(DuckDB's Python objects for ``TIMESTAMP WITH TIME ZONE`` would need pytz, which is not installed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa

from auditor import schemas
from auditor.i18n import t
from auditor.metrics.catalog import MetricSpec, metrics, views
from auditor.policy import Policy, default_policy
from auditor.rules.reference import reference_tables

#: Below this many input rows one DuckDB thread is faster (measured: about 2x on test-sized inputs).
SMALL_INPUT_ROWS = 100_000
#: DuckDB's working memory: this share of the machine's memory, or ``AUDITOR_MEMORY_LIMIT`` (e.g. ``1GB``).
#: Beyond it DuckDB spills to a temporary folder instead of growing: memory is set, not input-driven.
MEMORY_SHARE = 0.4


def memory_limit() -> str:
    """The DuckDB memory limit, from the environment or a share of physical memory."""
    chosen = os.environ.get("AUDITOR_MEMORY_LIMIT")
    if chosen:
        return chosen
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return "2GB"
    return f"{max(256, int(total * MEMORY_SHARE) >> 20)}MB"


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
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self._spill = tempfile.TemporaryDirectory(prefix="auditor-duckdb-")
        self.con.execute("SET memory_limit = $limit", {"limit": memory_limit()})
        self.con.execute("SET temp_directory = $dir", {"dir": self._spill.name})
        self._keep: list[object] = []  # Arrow tables must outlive the connection's views of them
        self.results: dict[str, pa.Table] = {}
        self._names: set[str] = set()
        tables = dict(tables or {})
        if parquet_dir is None and sum(t.num_rows for t in tables.values()) < SMALL_INPUT_ROWS:
            self.con.execute("SET threads = 1")  # thread start-up costs more than it saves on small inputs
        for kind in schemas.KINDS:
            path = parquet_dir / f"{kind}.parquet" if parquet_dir else None
            if path is not None and path.exists():
                self.con.read_parquet(str(path)).create_view(kind, replace=True)
                self._names.add(kind)
            else:
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
        for spec in views():
            self._create(spec)

    def register(self, name: str, table: pa.Table) -> None:
        self._keep.append(table)
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

    def _create(self, spec: MetricSpec) -> None:
        body = _strip_header(spec.sql)
        if spec.role == "macro":
            self.con.execute(body)
        else:  # materialise once: every metric reads it
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.name} AS {body}")
            self._names.add(spec.name)

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
        if self.progress:
            self.progress(t("progress.metric", None, name=name))
        result: pa.Table = self.con.sql(_strip_header(spec.sql)).to_arrow_table()
        self.results[name] = result
        self.register(name, result)
        return result

    def _exists(self, name: str) -> bool:
        return name in self._names

    def run_all(self, names: list[str] | None = None) -> dict[str, pa.Table]:
        """Every metric whose inputs are available (metrics needing later stages are skipped)."""
        for name, spec in metrics().items():
            if names is not None and name not in names:
                continue
            if all(d in metrics() or self._exists(d) for d in spec.requires):
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


def _arrow_years(tables: Mapping[str, pa.Table]) -> list[int]:
    """Like ``MetricRunner._years`` for in-memory tables, without a query (pyarrow min/max)."""
    import pyarrow.compute as pc

    years: list[int] = []
    for kind, table in tables.items():
        for field in schemas.get(kind).time_fields:
            bounds = pc.min_max(table.column(field))
            values = [bounds[key].as_py() for key in ("min", "max")]
            years += [v.year for v in values if v is not None]
    return policy_years(min(years), max(years)) if years else []


def _strip_header(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--")).strip().rstrip(";")


def run_metrics(tables: Mapping[str, pa.Table], policy: Policy | None = None) -> dict[str, pa.Table]:
    """Convenience: every metric over in-memory canonical tables."""
    with MetricRunner(tables, policy) as runner:
        return runner.run_all()


def policy_years(low: int, high: int) -> list[int]:
    """The years whose holidays the policy tables hold: one either side, within what ``date`` can represent."""
    return list(range(max(low - 1, 1), min(high + 2, 10_000)))
