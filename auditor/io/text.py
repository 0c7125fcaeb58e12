"""Reading a text export: decoded lines with their numbers, bounded length, no byte lost.

Undecodable bytes in a file chosen as UTF-8 are read as cp1252 for that line only (files glued
together from two exports do that) and counted; a line longer than ``MAX_LINE`` chars stops the file
with an error naming it rather than filling memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from auditor.errors import InputError
from auditor.io.encoding import Encoding

MAX_LINE = 1 << 20  # characters
_SURROGATES = re.compile("[\udc80-\udcff]")


def _errors_for(encoding: Encoding) -> str:
    return "surrogateescape" if encoding.name.replace("_", "-") == "utf-8" else "replace"


def open_text(binary: BinaryIO, encoding: Encoding) -> io.TextIOWrapper:
    """A text stream over ``binary`` (positioned at 0) that skips the BOM and never raises on bytes."""
    binary.seek(encoding.bom_length)
    return io.TextIOWrapper(binary, encoding=encoding.name, errors=_errors_for(encoding), newline="")


def repair(line: str, on_repair: Callable[[], None] | None = None) -> str:
    """Re-read as cp1252 a line whose bytes were not UTF-8 (surrogate-escaped)."""
    if not _SURROGATES.search(line):
        return line
    if on_repair:
        on_repair()
    raw = line.encode("utf-8", errors="surrogateescape")
    return raw.decode("cp1252", errors="replace")


def physical_lines(
    stream: io.TextIOWrapper, file: str, on_repair: Callable[[], None] | None = None, first: int = 1
) -> Iterator[str]:
    """Lines with their end kept (CSV needs it), repaired, at most ``MAX_LINE`` characters each.

    ``first`` is the file line number of the stream's first line (a block read from the middle of a file),
    so that a ``line-too-long`` error names the line of the file.
    """
    number = first - 1
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise InputError("line-too-long", file, number, limit=MAX_LINE)
        yield repair(line, on_repair)


def numbered_lines(
    stream: io.TextIOWrapper, file: str, on_repair: Callable[[], None] | None = None
) -> Iterator[tuple[int, str]]:
    """``(line number, text without its end)`` for line-oriented logs."""
    for number, line in enumerate(physical_lines(stream, file, on_repair), start=1):
        yield number, line.rstrip("\r\n")
