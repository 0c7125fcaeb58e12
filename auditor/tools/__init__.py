"""Capability sheets: what each product family can record, with sources (``auditor/tools/*.yaml``).

They give findings the ``capability`` evidence level ("this tool can also record X; your export does
not show it") and the items of access-request letters. A dataset's ``tool`` names are matched to a
sheet by case-insensitive substrings listed under ``matches``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditor.rules.yamlsafe import DocumentError, Problem, load_file

EVIDENCE_TAGS = ("doc", "code", "mkt", "sec", "unverified")


@dataclass(frozen=True)
class Capability:
    id: str
    title: dict[str, str]
    evidence: str
    source: str
    kind: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class Sheet:
    id: str
    product: str
    vendor: str
    family: dict[str, str]
    matches: tuple[str, ...]
    kinds: tuple[str, ...]
    capabilities: tuple[Capability, ...]
    ask: dict[str, str]
    sources: tuple[dict[str, str], ...]
    retention: dict[str, str] | None = None

    def matches_tool(self, tool: str) -> bool:
        name = tool.lower()
        return any(m.lower() in name for m in self.matches)


def _directory() -> Path:
    return Path(str(resources.files("auditor.tools")))


def _sheet(data: dict[str, Any]) -> Sheet:
    return Sheet(
        id=data["id"],
        product=data["product"],
        vendor=data["vendor"],
        family=data["family"],
        matches=tuple(data["matches"]),
        kinds=tuple(data["kinds"]),
        capabilities=tuple(Capability(**c) for c in data["capabilities"]),
        ask=data["ask"],
        sources=tuple(data["sources"]),
        retention=data.get("retention"),
    )


_REQUIRED = ("id", "product", "vendor", "family", "matches", "kinds", "capabilities", "ask", "sources")


@cache
def sheets() -> dict[str, Sheet]:
    """Every capability sheet by id; all problems are reported together."""
    from auditor import schemas

    found: dict[str, Sheet] = {}
    problems: list[Problem] = []
    for path in sorted(_directory().glob("*.yaml")):
        data, errors = load_file(path)
        problems += errors
        if not isinstance(data, dict):
            continue
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            problems.append(Problem(str(path), None, f"missing keys {missing}"))
            continue
        for cap in data["capabilities"]:
            if cap.get("evidence") not in EVIDENCE_TAGS:
                problems.append(
                    Problem(str(path), None, f"capability {cap.get('id')}: evidence must be one of {EVIDENCE_TAGS}")
                )
            kind, field = cap.get("kind"), cap.get("field")
            if kind is not None and (kind not in schemas.KINDS or field not in schemas.get(kind).names):
                problems.append(Problem(str(path), None, f"capability {cap.get('id')}: unknown field {kind}.{field}"))
        if path.stem != data["id"]:
            problems.append(Problem(str(path), None, f"id {data['id']!r} differs from the file name"))
        if not problems:
            found[data["id"]] = _sheet(data)
    if problems:
        raise DocumentError(problems)
    return found


def sheet_for(tool: str) -> Sheet | None:
    """The sheet whose ``matches`` fit ``tool`` (first by id), or None for an unknown product."""
    return next((s for s in sheets().values() if s.matches_tool(tool)), None)


def capability_table(tools: list[str]) -> pa.Table:
    """One row per (tool in the dataset, capability of its product): the ``tool_capabilities`` table."""
    rows = [
        (tool, sheet.id, cap.id, cap.kind, cap.field, cap.source)
        for tool in tools
        if (sheet := sheet_for(tool)) is not None
        for cap in sheet.capabilities
    ]
    names = ("tool", "product", "capability", "kind", "field", "source")
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})
