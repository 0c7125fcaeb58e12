"""Write a whole audit to disk: committee report, one folder per agent (report + letter), findings.json.

Every file is written atomically; names and order are stable, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.io.output import ensure_dir, write_text
from auditor.model import Dataset
from auditor.report import committee, letter, personal, render
from auditor.rules.engine import AuditResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(agent: str) -> str:
    """A folder name that cannot escape DIR nor collide: readable part + short hash of the identifier."""
    readable = _UNSAFE.sub("_", agent).strip("._")[:40] or "agent"
    return f"{readable}-{hashlib.sha256(agent.encode('utf-8')).hexdigest()[:8]}"


@dataclass(frozen=True)
class Options:
    lang: str
    k: int
    formats: Sequence[str]
    key: bytes


def agent_letter(view: dict[str, Any], result: AuditResult, lang: str, name: str | None = None) -> str:
    by_kind: dict[str, list[str]] = {}
    for tool in view["tools"]:  # one section per kind of data, naming every tool that holds it
        by_kind.setdefault(tool["kind"], []).append(tool["tool"])
    tools = [(", ".join(sorted(names)), kind) for kind, names in sorted(by_kind.items())]
    used = {tool["tool"] for tool in view["tools"]}
    not_given = [c["title"][lang] for f in result.findings if f.tool in used for c in f.capabilities]
    return letter.letter(tools, lang, name=name, not_given=not_given)


def write_personal(dataset: Dataset, result: AuditResult, agent: str, folder: Path, options: Options) -> list[Path]:
    view = personal.build(dataset, result, agent, options.lang)
    written = []
    for fmt in options.formats:
        path = folder / f"report.{fmt}"
        write_text(path, render.render(view, fmt))
        written.append(path)
    write_text(folder / "letter.md", agent_letter(view, result, options.lang))
    return [*written, folder / "letter.md"]


def write_all(dataset: Dataset, result: AuditResult, out: Path, options: Options,
              agents: Sequence[str] | None = None) -> list[Path]:
    ensure_dir(out)
    written: list[Path] = []
    view = committee.build(dataset, result, options.key, options.k, options.lang)
    for fmt in options.formats:
        write_text(out / f"committee.{fmt}", render.render(view, fmt))
        written.append(out / f"committee.{fmt}")
    findings = json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    write_text(out / "findings.json", findings)
    written.append(out / "findings.json")
    for agent in agents if agents is not None else dataset.agents():
        written += write_personal(dataset, result, agent, out / "agents" / safe_name(agent), options)
    return written
