"""The parser registry: one decorator to register, one function to choose a parser for a file.

Every module in ``auditor.sources`` is imported once, which registers its parsers; YAML profiles in
``auditor/sources/profiles`` register one profile-driven parser each. Detection asks every parser to
sniff the same head, adds a small bonus for a matching file name, and reports ties as ambiguity.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import TypeVar

from auditor.errors import InputError
from auditor.sources.base import Head, Parser, Source

MIN_CONFIDENCE = 0.3
AMBIGUITY_MARGIN = 0.1
NAME_BONUS = 0.05

P = TypeVar("P", bound=type[Parser])

_REGISTRY: dict[str, Parser] = {}
_loaded = False


def register(cls: P) -> P:
    """Class decorator: make ``cls`` available to detection under ``cls.name``."""
    add(cls())
    return cls


def add(parser: Parser) -> None:
    if parser.name in _REGISTRY and type(_REGISTRY[parser.name]) is not type(parser):
        raise RuntimeError(f"two parsers are named {parser.name!r}")
    _REGISTRY[parser.name] = parser


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import auditor.sources as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in ("base", "registry"):
            importlib.import_module(f"auditor.sources.{module.name}")


def parsers() -> list[Parser]:
    _load_all()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get(name: str) -> Parser:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError("format-forced-unknown", name, parser=name) from None


@dataclass(frozen=True)
class Detection:
    """Which parser reads a file, how sure we are, and who else came close."""

    file: str
    parser: str
    kind: str
    tool: str
    confidence: float
    encoding: str
    encoding_how: str
    candidates: tuple[tuple[str, float], ...] = field(default=())

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def score(parser: Parser, head: Head) -> float:
    try:
        value = float(parser.sniff(head))
    except Exception:  # a sniff must never break detection; it simply does not apply
        value = 0.0
    if value > 0 and any(fnmatch(head.name.lower(), p) for p in parser.patterns):
        value += NAME_BONUS
    return round(max(0.0, min(1.0, value)), 3)


def detect(source: Source, forced: str | None = None) -> Detection:
    """Choose the parser for ``source`` (or check the ``forced`` one exists)."""
    head = source.head
    if not head.raw:
        raise InputError("file-empty", source.name)
    if forced:
        parser = get(forced)
        return Detection(source.name, parser.name, parser.kind, parser.tool, 1.0,
                         head.encoding.name, head.encoding.how)
    scores = sorted(((score(p, head), p.name) for p in parsers()), key=lambda s: (-s[0], s[1]))
    best_score, best_name = scores[0] if scores else (0.0, "")
    if best_score < MIN_CONFIDENCE:
        raise InputError("format-unknown", source.name, score=best_score)
    close = tuple((name, s) for s, name in scores if s >= MIN_CONFIDENCE and best_score - s < AMBIGUITY_MARGIN)
    best = _REGISTRY[best_name]
    return Detection(source.name, best.name, best.kind, best.tool, best_score,
                     head.encoding.name, head.encoding.how, close)
