"""French lexicons (health, union, religion, job search, pejorative comments…) as data with sources.

A term is matched as whole words on text lower-cased, stripped of accents and reduced to letters and
digits (the same normalisation as the ``texts`` view); a trailing ``*`` matches any word ending. Each
lexicon becomes one regular expression handed to DuckDB as a table value, never pasted into SQL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pyarrow as pa

from auditor.rules.yamlsafe import DocumentError, Problem, load_file


@dataclass(frozen=True)
class Lexicon:
    id: str
    title: dict[str, str]
    description: dict[str, str]
    sources: tuple[dict[str, str], ...]
    terms: tuple[str, ...]

    @property
    def pattern(self) -> str:
        """Whole-word alternation over normalised text padded with one space each side."""
        parts = sorted({_term_regex(t) for t in self.terms}, key=lambda p: (-len(p), p))
        return " (" + "|".join(parts) + ") "


def normalise(text: str) -> str:
    """Lower case, no accents, œ→oe, runs of other characters → one space (mirrors views/30_texts.sql)."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _term_regex(term: str) -> str:
    stem = term.endswith("*")
    words = normalise(term.rstrip("*")).replace(" ", " ")
    return words + "[a-z0-9]*" if stem else words


def _directory() -> Path:
    return Path(str(resources.files("auditor.rules")) ) / "lexicons"


@cache
def lexicons() -> dict[str, Lexicon]:
    found: dict[str, Lexicon] = {}
    problems: list[Problem] = []
    for path in sorted(_directory().glob("*.yaml")):
        data, errors = load_file(path)
        problems += errors
        if not isinstance(data, dict):
            continue
        missing = [k for k in ("id", "title", "description", "sources", "terms") if k not in data]
        if missing or path.stem != data.get("id") or not data.get("sources") or not data.get("terms"):
            problems.append(Problem(str(path), None, f"a lexicon needs id (= file name), title, description, "
                                                     f"sources and terms; missing {missing}"))
            continue
        bad = [t for t in data["terms"] if not normalise(str(t).rstrip("*"))]
        if bad:
            problems.append(Problem(str(path), None, f"empty terms after normalisation: {bad}"))
        found[data["id"]] = Lexicon(data["id"], data["title"], data["description"], tuple(data["sources"]),
                                    tuple(str(t) for t in data["terms"]))
    if problems:
        raise DocumentError(problems)
    return found


@cache
def pattern_table() -> pa.Table:
    """``lexicon_patterns(lexicon, pattern)`` for DuckDB."""
    items = sorted(lexicons().items())
    return pa.table({
        "lexicon": pa.array([k for k, _ in items], pa.string()),
        "pattern": pa.array([v.pattern for _, v in items], pa.string()),
    })
