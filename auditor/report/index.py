"""Everything a batch of personal reports looks up by identifier, computed once per audit.

Filtering every table, the retention metric and every finding's per-agent list for each person costs
O(people × rows); with thousands of agents that is minutes. Sorting each table by identifier once and
keeping the row ranges makes one person's rows a few slices, and their report O(their own rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from auditor.model import Dataset
from auditor.rules.engine import AuditResult
from auditor.rules.model import AgentValues

_ROW = "__row"


class ReportIndex:
    """Row ranges per identifier in every table, retention rows and per-agent finding values by identifier."""

    def __init__(self, dataset: Dataset, result: AuditResult) -> None:
        self.identifiers: list[str] = dataset.agents()
        self._tables: dict[str, tuple[pa.Table, dict[str, tuple[int, int]]]] = {
            kind: _ranges(table) for kind, table in sorted(dataset.tables.items())
        }
        retention = result.metrics.get("retention")
        self.retention: dict[str, list[dict[str, Any]]] = {}
        for row in retention.to_pylist() if retention is not None else []:
            self.retention.setdefault(row["agent"], []).append(row)
        self.values: list[dict[str, list[AgentValues]]] = []
        for finding in result.findings:
            by_agent: dict[str, list[AgentValues]] = {}
            for values in finding.per_agent:
                by_agent.setdefault(values.agent, []).append(values)
            self.values.append(by_agent)

    def rows(self, kind: str, identifiers: Iterable[str]) -> pa.Table | None:
        """The rows of ``kind`` held under any of ``identifiers``, in the input's order (None: no such kind)."""
        if kind not in self._tables:
            return None
        table, ranges = self._tables[kind]
        parts = [table.slice(*ranges[name]) for name in sorted(set(identifiers)) if name in ranges]
        if not parts:
            return table.slice(0, 0).drop_columns([_ROW])
        mine = pa.concat_tables(parts)
        if len(parts) > 1:
            mine = mine.sort_by(_ROW)
        return mine.drop_columns([_ROW])

    def kinds(self) -> list[str]:
        return list(self._tables)


def _ranges(table: pa.Table) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    numbered = table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))
    ordered = numbered.sort_by([("agent", "ascending"), (_ROW, "ascending")])
    ranges: dict[str, tuple[int, int]] = {}
    if ordered.num_rows:
        runs = pc.run_end_encode(ordered.column("agent").combine_chunks())  # type: ignore[attr-defined]  # not in stubs
        start = 0
        for value, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
            if value is not None:
                ranges[value] = (start, end - start)
            start = end
    return ordered, ranges
