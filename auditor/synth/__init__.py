"""`auditor synth`: realistic synthetic exports in every supported format, deterministic for a seed.

The world (world.py) says what happened; each parser's ``render`` says how its tool writes it down.
A format without an agent field (GPX, an agenda file) gets one file per agent, named after the agent,
because that is how such exports reach us — and the file name is what identifies the agent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from auditor.io.output import write_bytes, write_text
from auditor.sources import registry
from auditor.sources.base import Parser
from auditor.synth.world import World

PER_AGENT_FILES = 2  # formats without an agent field: files for this many agents


@dataclass(frozen=True)
class Written:
    path: Path
    parser: str
    kind: str
    rows: int


def _renders(parser: Parser) -> bool:
    return type(parser).render is not Parser.render


def _file_name(parser: Parser, stem: str) -> str:
    """``stem`` with the extension of the parser's first file pattern that has one."""
    for pattern in parser.patterns:
        suffix = PurePath("x" + pattern.replace("*", "")).suffix
        if suffix:
            return stem + suffix
    return stem + ".txt"


def plan(world: World) -> list[tuple[Parser, str, list[Mapping[str, Any]]]]:
    """(parser, file name, rows) for every format the world has data for."""
    out: list[tuple[Parser, str, list[Mapping[str, Any]]]] = []
    cache: dict[str, list[dict[str, Any]]] = {}
    for parser in registry.parsers():
        if not _renders(parser) or not hasattr(world, f"_{parser.kind}"):
            continue
        rows = parser.synth_rows(cache.setdefault(parser.kind, world.rows(parser.kind)))
        if not rows:
            continue
        if "agent" in parser.roundtrip_fields:
            out.append((parser, _file_name(parser, parser.name), rows))
            continue
        agents = sorted({r["agent"] for r in rows})[:PER_AGENT_FILES]
        for agent in agents:
            mine = [r for r in rows if r["agent"] == agent]
            out.append((parser, f"{parser.name}/{_file_name(parser, agent)}", mine))
    return out


def write_exports(out: Path, world: World) -> list[Written]:
    written = []
    for parser, name, rows in plan(world):
        target = out / name
        write_bytes(target, parser.render(rows))
        written.append(Written(target, parser.name, parser.kind, len(rows)))
    write_text(out / "README.md", readme(written, out, world))
    return written


def readme(written: list[Written], out: Path, world: World) -> str:
    lines = [
        "# Exports d'exemple / sample exports",
        "",
        f"Générés par `auditor synth --agents {world.agents_count} --days {world.days} --seed {world.seed}` : "
        "données **fictives**, réalistes, identiques pour une même graine. "
        "Generated synthetic data: realistic, fictitious, byte-identical for a given seed.",
        "",
        "| fichier / file | format | type / kind | lignes / rows | sha256 (12) | description |",
        "|---|---|---|---|---|---|",
    ]
    for w in written:
        parser = registry.get(w.parser)
        digest = hashlib.sha256(w.path.read_bytes()).hexdigest()[:12]
        lines.append(f"| `{w.path.relative_to(out)}` | `{w.parser}` | `{w.kind}` | {w.rows} | `{digest}` | "
                     f"{parser.title['fr']} / {parser.title['en']} |")
    return "\n".join(lines) + "\n"
