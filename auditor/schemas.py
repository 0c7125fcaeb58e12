"""The canonical kinds: `schemas/<kind>.json` (Table Schema + Arrow types) as Arrow schemas.

The JSON files are the single source of truth for field names, types, units, sensitivity and the
plain-words descriptions that personal reports show. Everything else reads them through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditor.errors import UsageError

KINDS = (
    "appointments",
    "queue_tickets",
    "positions",
    "web_requests",
    "clock_events",
    "care_acts",
    "case_actions",
    "activity_events",
)

BOOKKEEPING = ("tool", "source_file", "source_row")

TIME_TYPE = pa.timestamp("us", tz="UTC")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp[us, tz=UTC]": TIME_TYPE,
}


@dataclass(frozen=True)
class FieldDoc:
    name: str
    arrow_type: pa.DataType
    required: bool
    unit: str | None
    sensitivity: str
    title: dict[str, str]
    description: dict[str, str]


@dataclass(frozen=True)
class KindSchema:
    kind: str
    title: dict[str, str]
    description: dict[str, str]
    fields: tuple[FieldDoc, ...]
    arrow: pa.Schema
    descriptor: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def time_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.arrow_type == TIME_TYPE)

    def field(self, name: str) -> FieldDoc:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def schemas_dir() -> Path:
    """Where the JSON files are: inside the wheel (`auditor/_schemas`) or the source checkout."""
    packaged = Path(str(resources.files("auditor"))) / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def _bilingual(descriptor: dict[str, Any], key: str) -> dict[str, str]:
    return {"fr": descriptor[key], "en": descriptor["en"][key]}


@cache
def get(kind: str) -> KindSchema:
    if kind not in KINDS:
        raise UsageError("kind-unknown", kind=kind)
    descriptor = json.loads((schemas_dir() / f"{kind}.json").read_text(encoding="utf-8"))
    fields = tuple(
        FieldDoc(
            name=f["name"],
            arrow_type=_ARROW_TYPES[f["arrowType"]],
            required=bool(f.get("constraints", {}).get("required", False)),
            unit=f.get("unit"),
            sensitivity=f["sensitivity"],
            title=_bilingual(f, "title"),
            description=_bilingual(f, "description"),
        )
        for f in descriptor["fields"]
    )
    arrow = pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in fields])
    return KindSchema(
        kind=kind,
        title=_bilingual(descriptor, "title"),
        description=_bilingual(descriptor, "description"),
        fields=fields,
        arrow=arrow,
        descriptor=descriptor,
    )


def all_kinds() -> list[KindSchema]:
    return [get(k) for k in KINDS]


def validate(table: pa.Table | pa.RecordBatch, kind: str) -> list[str]:
    """Problems that make ``table`` not a valid ``kind`` table (empty list when valid)."""
    schema = get(kind)
    problems: list[str] = []
    if table.schema.names != list(schema.names):
        problems.append(f"columns {table.schema.names} != {list(schema.names)}")
        return problems
    for f in schema.fields:
        column = table.column(f.name)
        if column.type != f.arrow_type:
            problems.append(f"{f.name}: type {column.type} != {f.arrow_type}")
        elif f.required and column.null_count:
            problems.append(f"{f.name}: {column.null_count} empty value(s) in a required field")
    return problems


def empty_table(kind: str) -> pa.Table:
    return get(kind).arrow.empty_table()
