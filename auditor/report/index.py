"""Everything a batch of personal reports looks up by identifier, computed once per audit.

Filtering every table, the retention metric and every finding's per-agent list for each person costs
O(people × rows); with thousands of agents that is minutes. The dataset's per-agent index
(``Dataset.rows_of``) makes one person's rows a few slices; the metric rows and finding values are grouped
by identifier here, so a report is O(its person's own rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from auditor.model import Dataset
from auditor.report.people import Person
from auditor.rules.engine import AuditResult
from auditor.rules.model import AgentValues


class ReportIndex:
    """Rows per identifier (through the dataset's index), the files they came from, retention rows and per-agent
    finding values.

    ``batch=False`` is for one person's report: their rows are then one filtered read of each kind
    (``Dataset.filtered_rows``) instead of going through a per-agent index of every kind, whose opening may cost a
    split of each kind of a workspace (one made without the read's parts).
    """

    def __init__(self, dataset: Dataset, result: AuditResult, batch: bool = True) -> None:
        self.dataset, self.batch = dataset, batch
        if batch:
            dataset.index_by_agent()  # now, so that forked workers share it instead of each building its own
        self.identifiers: list[str] = dataset.agents()
        self.identifier_set = frozenset(self.identifiers)
        self.sources = dataset.files_of()
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
        if kind not in self.dataset.kinds():
            return None
        return self.dataset.rows_of(kind, identifiers) if self.batch else self.dataset.filtered_rows(kind, identifiers)

    def reading_order(self, people: Sequence[Person]) -> list[int]:
        """The places of ``people`` in the order their rows lie in the largest kind (``Dataset.reading_place``; the
        order chosen among equals): a batch read in that order sorts each of a workspace's parts once, where in name
        order it would sort most of them once per person they hold."""
        kinds = self.dataset.kinds()
        if not self.batch or not kinds or not people:
            return list(range(len(people)))
        kind = max(kinds, key=self.dataset.rows_in)
        first = [min((self.dataset.reading_place(kind, agent) for agent in person.identifiers), default=-1)
                 for person in people]
        return sorted(range(len(people)), key=first.__getitem__)

    def files(self, person: Person) -> set[str]:
        """The input files that hold rows of ``person`` (their identifiers, in the tools that are theirs)."""
        return {file for agent in person.identifiers for tool, file in self.sources.get(agent, ())
                if person.owns(tool, agent)}
