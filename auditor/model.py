"""Value types passed between stages: provenance of an input, and a loaded dataset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa


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
    """Canonical tables by kind, the rejects, and one provenance per input file."""

    tables: dict[str, pa.Table]
    rejects: pa.Table
    provenance: list[Provenance]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def agents(self) -> list[str]:
        found: set[str] = set()
        for table in self.tables.values():
            found.update(v for v in table.column("agent").to_pylist() if v is not None)
        return sorted(found)
