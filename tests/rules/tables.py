"""Tiny canonical tables for tests: give the fields you care about, the rest is empty."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from auditor import schemas

PARIS = ZoneInfo("Europe/Paris")


def local(text: str) -> datetime:
    """'2026-03-02 10:15[:30]' read as Paris wall-clock time (what case files write)."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def table(kind: str, rows: Iterable[Mapping[str, Any]], tool: str = "test-tool") -> pa.Table:
    """A valid ``kind`` table; string times are Paris local times, missing fields are null."""
    schema = schemas.get(kind)
    rows = list(rows)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(schema.names)
        if unknown:
            raise KeyError(f"{kind}: unknown fields {sorted(unknown)}")
        for f in schema.fields:
            value = row.get(f.name)
            if f.name == "tool":
                value = value or tool
            elif f.name == "source_file":
                value = value or "case.csv"
            elif f.name == "source_row":
                value = value or number
            elif isinstance(value, str) and f.arrow_type == schemas.TIME_TYPE:
                value = local(value)
            columns[f.name].append(value)
    return pa.Table.from_pydict(columns, schema=schema.arrow)


def tables(spec: Mapping[str, Iterable[Mapping[str, Any]]], tool: str = "test-tool") -> dict[str, pa.Table]:
    return {kind: table(kind, rows, tool) for kind, rows in spec.items()}
