"""The metric files and their headers: name, grain, dependencies, plain-words definitions fr/en.

The header is the documentation a non-programmer auditor reads, so it is parsed rather than duplicated:
``-- key: value`` lines, indented ``--   ...`` lines continuing the previous key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

HEADER_KEYS = ("metric", "view", "macro", "grain", "requires", "empty-without", "fr", "en")


@dataclass(frozen=True)
class MetricSpec:
    """One SQL file: a metric (a query), a view (materialised once per run) or a macro."""

    name: str
    role: str  # "metric", "view" or "macro"
    path: Path
    sql: str
    grain: tuple[str, ...]
    requires: tuple[str, ...]
    definition: dict[str, str]
    #: Kinds without which the result has no row (``-- empty-without: a, b``: none of them has a row, no result
    #: row): a bucket that has none of them is not queried (tests hold every file to its claim).
    empty_without: tuple[str, ...] = ()


def _directory() -> Path:
    return Path(str(resources.files("auditor.metrics")))


def parse_header(path: Path) -> MetricSpec:
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:]
        if body.startswith("   ") and key:
            header[key] += " " + body.strip()
            continue
        name, _, value = body.strip().partition(":")
        if name not in HEADER_KEYS:
            raise ValueError(f"{path}: unknown header key {name!r}")
        key = name
        header[key] = value.strip()
    roles = [r for r in ("metric", "view", "macro") if r in header]
    if len(roles) != 1 or not header.get("fr") or not header.get("en"):
        raise ValueError(f"{path}: the header needs one of metric/view/macro and a fr and en definition")
    role = roles[0]
    name = header[role]
    if role == "metric" and name != path.stem:
        raise ValueError(f"{path}: metric name {name!r} differs from the file name")
    return MetricSpec(
        name=name,
        role=role,
        path=path,
        sql=text,
        grain=_split(header.get("grain", "")),
        requires=_split(header.get("requires", "")),
        definition={"fr": header["fr"], "en": header["en"]},
        empty_without=_split(header.get("empty-without", "")),
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


@cache
def metrics() -> dict[str, MetricSpec]:
    """Every metric, by name (file order)."""
    return {s.name: s for s in (parse_header(p) for p in sorted(_directory().glob("*.sql")))}


@cache
def views() -> tuple[MetricSpec, ...]:
    """Macros and views, in the order they must be created (file name order)."""
    return tuple(parse_header(p) for p in sorted((_directory() / "views").glob("*.sql")))


def metric(name: str) -> MetricSpec:
    return metrics()[name]
