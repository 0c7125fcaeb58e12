"""Load the rule catalogue and the legal references, collecting every problem with its file and line.

Rules are reviewed documents: the loader rejects duplicate keys, validates each file against
``schemas/rule.schema.json``, and checks what a schema cannot (file name = id, every reference id
resolves, the metric exists). It reports all problems at once, like pySigma, instead of the first.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.rules.model import Reference, Rule
from auditor.rules.yamlsafe import (
    DocumentError,
    Problem,
    load_file,
    load_schema,
    load_text,
    locate,
    schema_problems,
)


def rules_dir() -> Path:
    return Path(str(resources.files("auditor.rules")))


def catalog_dir() -> Path:
    return rules_dir() / "catalog"


@cache
def references() -> dict[str, Reference]:
    """``references.yaml`` by id."""
    path = rules_dir() / "references.yaml"
    data, problems = load_file(path)
    found: dict[str, Reference] = {}
    if isinstance(data, dict):
        for key, entry in data.items():
            try:
                values: dict[str, Any] = {k: str(v) if k == "date" else v for k, v in entry.items()}
                found[key] = Reference(id=key, **values)
            except TypeError as error:
                problems.append(Problem(str(path), None, f"{key}: {error}"))
    elif not problems:
        problems.append(Problem(str(path), None, "must be a mapping of id -> reference"))
    if problems:
        raise DocumentError(problems)
    return found


def parse_rule(text: str, file: str) -> tuple[Rule | None, list[Problem]]:
    """One rule document → (rule or None, problems)."""
    from auditor.metrics.catalog import metrics

    data, problems = load_file_text(text, file)
    if data is None:
        return None, problems
    problems += schema_problems(data, load_schema("rule.schema.json"), file, text)
    if problems:
        return None, problems
    if Path(file).stem != data["id"]:
        problems.append(Problem(file, locate(text, ["id"]), f"id {data['id']!r} differs from the file name"))
    known = references()
    for index, ref in enumerate(data["references"]):
        if ref not in known:
            problems.append(Problem(file, locate(text, ["references", index]), f"unknown reference {ref!r}"))
    if data["metric"] not in metrics():
        problems.append(Problem(file, locate(text, ["metric"]), f"unknown metric {data['metric']!r}"))
    if problems:
        return None, problems
    return _rule(data, file), []


def load_file_text(text: str, file: str) -> tuple[Any, list[Problem]]:
    data, problems = load_text(text, file)
    if data is not None and not isinstance(data, dict):
        return None, [*problems, Problem(file, 1, "a rule must be a mapping")]
    return data, problems


def _rule(data: dict[str, Any], file: str) -> Rule:
    return Rule(
        id=data["id"],
        status=data["status"],
        title=data["title"],
        explanation=data["explanation"],
        ask=data["ask"],
        kinds=tuple(data["kinds"]),
        metric=data["metric"],
        condition=data["condition"],
        severity=data["severity"],
        evidence=data["evidence"],
        threshold_source=data["threshold_source"],
        references=tuple(data["references"]),
        escalate=tuple((e["severity"], e["condition"]) for e in data.get("escalate", [])),
        measures=tuple(data.get("measures", [])),
        capabilities=tuple(data.get("capabilities", [])),
        threshold_note=data.get("threshold_note"),
        false_positives=data.get("false_positives"),
        path=file,
        document=data,
    )


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule of ``directory`` (default: the packaged catalogue) by id; DocumentError lists all problems."""
    found: dict[str, Rule] = {}
    problems: list[Problem] = []
    for path in sorted((directory or catalog_dir()).glob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), None, f"cannot read: {error}"))
            continue
        rule, rule_problems = parse_rule(text, str(path))
        problems += rule_problems
        if rule is not None:
            if rule.id in found:
                problems.append(Problem(str(path), 1, f"rule id {rule.id} already used by {found[rule.id].path}"))
            found[rule.id] = rule
    if problems:
        raise DocumentError(problems)
    return found


@cache
def catalogue() -> dict[str, Rule]:
    """The packaged catalogue (cached)."""
    return load_rules()
