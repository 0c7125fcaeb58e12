"""A YAML loader that rejects duplicate keys and reports every problem with its file and line.

Rules and policies are reviewed documents: a key written twice silently overriding the first (what
PyYAML does by default) would let a reviewer read one threshold while the engine uses another. Like
pySigma, loading collects *all* problems instead of stopping at the first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where, and a sentence (English; ids are stable for i18n)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class DocumentError(ValueError):
    """Raised with every problem found in one or more documents."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: 10x faster


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader that records duplicate keys (with their line) instead of overwriting silently."""

    duplicates: list[tuple[int, str]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.duplicates.append((line, f"duplicate key {key!r} (first at line {seen[key]})"))
        else:
            seen[key] = line
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse ``text``; return the data (None on a syntax error) and the problems found."""
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, line, f"YAML syntax: {getattr(error, 'problem', None) or error}")]
    finally:
        loader.dispose()
    return data, [Problem(file, line, message) for line, message in loader.duplicates]


def load_file(path: Path) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(str(path), None, f"cannot read: {error}")]
    return load_text(text, str(path))


def locate(text: str, path: list[str | int]) -> int | None:
    """Line of the node at ``path`` (keys and indexes, as jsonschema reports them), or of its nearest parent."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    line, child = key.start_mark.line + 1, value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def schema_problems(data: Any, schema: dict[str, Any], file: str, text: str) -> list[Problem]:
    """Every JSON-Schema violation of ``data``, located at its line in ``text``."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        where = "/".join(str(p) for p in path) or "(document)"
        problems.append(Problem(file, locate(text, path), f"{where}: {error.message}"))
    return problems


@cache
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON schema from ``schemas/`` (packaged or source checkout)."""
    from auditor.schemas import schemas_dir

    loaded: dict[str, Any] = json.loads((schemas_dir() / name).read_text(encoding="utf-8"))
    return loaded
