"""The error catalogue: stable kebab-case ids, fr/en messages, and where in the input it happened.

Like frictionless's error types, every error and every row rejection has an id that never changes
meaning; its title and message template live in the message catalogue under ``error.<id>`` and
``error.<id>.hint`` (what to do). Reports, JSON output and translations share the ids.
"""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from auditor.i18n import has, t

#: Errors that stop reading a file (InputError) or a command (UsageError).
FILE_ERRORS = (
    "file-not-found",
    "file-unreadable",
    "file-empty",
    "format-unknown",
    "format-forced-unknown",
    "encoding-undecodable",
    "csv-header-missing",
    "csv-header-unmapped",
    "xml-forbidden",
    "xml-malformed",
    "ics-malformed",
    "json-malformed",
    "archive-unsafe",
    "line-too-long",
    "kind-unknown",
    "agent-unknown",
    "output-exists",
    "timezone-invalid",
    "memory-limit-invalid",
    "key-invalid",
    "disk-full",
    "worker-lost",
)

#: Reasons a single row is rejected (kept in the rejects table, never silently dropped).
ROW_REASONS = (
    "row-field-count",
    "row-required-missing",
    "row-time-invalid",
    "row-number-invalid",
    "row-coordinates-invalid",
    "row-malformed",
    "row-encoding",
    "row-out-of-window",
)

#: Warnings: facts about a file worth telling, counted in its provenance.
WARNINGS = (
    "encoding-fallback-cp1252",
    "encoding-replaced-bytes",
    "dst-ambiguous",
    "dst-nonexistent",
    "time-missing",
    "timezone-missing",
    "timezone-unknown",
    "recurrence-expanded",
    "connect-no-path",
    "sentinel-time",
    "format-ambiguous",
    "header-unknown-columns",
)

ALL_IDS = FILE_ERRORS + ROW_REASONS + WARNINGS


def message(code: str, lang: str | None = None, **params: Any) -> str:
    """The sentence for ``code`` with its parameters; unknown parameters are ignored."""
    return t(f"error.{code}", lang, **_Defaults(params))


def hint(code: str, lang: str | None = None, **params: Any) -> str | None:
    key = f"error.{code}.hint"
    return t(key, lang, **_Defaults(params)) if has(key) else None


class _Defaults(dict[str, Any]):
    """Format mapping that renders a missing parameter as an empty string instead of failing."""

    def __missing__(self, key: str) -> str:
        return ""


class AuditorError(Exception):
    """Base of the errors a user can act on (exit code 2)."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in ALL_IDS:
            raise ValueError(f"unknown error id {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: str | None = None) -> str:
        text = message(self.code, lang, **self.params)
        advice = hint(self.code, lang, **self.params)
        return f"{text} {advice}" if advice else text


class InputError(AuditorError):
    """An input cannot be read; names the file and, when known, the line."""

    def __init__(self, code: str, file: str, line: int | None = None, **params: Any) -> None:
        self.file = file
        self.line = line
        super().__init__(code, file=file, line=line, **params)

    def render(self, lang: str | None = None) -> str:
        where = t("where.file_line" if self.line else "where.file", lang, file=self.file, line=self.line)
        return f"{where} {super().render(lang)}"


class UsageError(AuditorError):
    """The command was asked something it cannot do (bad option, unknown kind)."""


def actionable(error: BaseException) -> UsageError | None:
    """What the user can do about an error that is not a bug (a full disk, a worker the system stopped), or None."""
    return disk_full(error) or worker_lost(error)


def worker_lost(error: BaseException) -> UsageError | None:
    """The catalogue's ``worker-lost`` when one of the worker processes (metrics, reports) ended without a word
    (``BrokenProcessPool``): killed by the system, most often for want of memory."""
    from concurrent.futures.process import BrokenProcessPool

    if any(isinstance(current, BrokenProcessPool) for current in _chain(error)):
        return UsageError("worker-lost")
    return None


def disk_full(error: BaseException) -> UsageError | None:
    """The catalogue's ``disk-full`` when ``error`` is a full disk (or was raised while handling one), else None.

    A full disk reaches us as OSError(ENOSPC) from Python's own writes, as an OSError without its number from
    pyarrow's writers, and as a ``duckdb.IOException`` when DuckDB spills: the system's message is what they share.
    """
    for current in _chain(error):
        number = current.errno if isinstance(current, OSError) else None
        if number == errno.ENOSPC or "No space left on device" in str(current):
            path = current.filename if isinstance(current, OSError) and current.filename else tempfile.gettempdir()
            return UsageError("disk-full", path=str(path), folder=tempfile.gettempdir())
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then the error it was raised from or while handling, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@dataclass
class Issue:
    """A warning or a reject reason as data: code, where, and the values that explain it."""

    code: str
    line: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        return message(self.code, lang, **self.params)
