"""French CSV dialect sniffing: delimiter, quoting, preamble, decimal mark, day-first dates.

French Excel writes ``;``-separated files with decimal commas (and sometimes a ``sep=;`` first line);
vendor tools write ``,``, tab or ``|``. The delimiter is the candidate whose field counts are the most
consistent over the first records, read with the ``csv`` module so that quoted delimiters and quoted
line breaks are respected. The header is the first record with the usual number of fields, which skips
a title line or a ``sep=`` line. The decimal mark and the date order are inferred from the data rows:
``12,5`` means a decimal comma (unless ``,`` is the delimiter); ``13/02/2025`` means day first,
``02/13/2025`` month first; French day-first is the default when nothing tells.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Reader

DELIMITERS = (";", ",", "\t", "|")
SAMPLE_LINES = 200

_SEP_LINE = re.compile(r'^\ufeff?"?sep=(.)"?\s*$', re.IGNORECASE)
_COMMA_DECIMAL = re.compile(r"^[-+]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[-+]?\d+\.\d+$")
_DATE_PREFIX = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:$|[ T,])")


@dataclass(frozen=True)
class Dialect:
    """How to read one CSV file. ``preamble``: lines before the records (``sep=;``)."""

    delimiter: str = ";"
    quotechar: str = '"'
    decimal: str = ","
    dayfirst: bool = True
    preamble: int = 0
    header_line: int = 1

    def reader(self, lines: Iterable[str]) -> Reader:
        """A ``csv.reader`` over ``lines`` with this dialect (non-strict: never raises on quotes)."""
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar, skipinitialspace=True,
                          strict=False)


def sample_lines(text: str, complete: bool = True, limit: int = SAMPLE_LINES) -> list[str]:
    """The first ``limit`` lines of a sample, with their ends, without a line cut by the sample's end."""
    lines = list(islice(io.StringIO(text, newline=""), limit + 1))  # same line ends as Source.physical_lines
    if len(lines) > limit or (not complete and len(lines) > 1):
        lines = lines[:-1]
    return lines


def _records(lines: list[str], delimiter: str, first_line: int = 1) -> list[tuple[int, list[str]]]:
    """Non-blank records with the physical line where each starts."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', skipinitialspace=True, strict=False)
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if cells and any(c.strip() for c in cells):
                out.append((first_line + start - 1, cells))
    except csv.Error:
        pass
    return out


def _mode(counts: list[int]) -> tuple[int, float]:
    """Most common field count and the share of records after its first occurrence that have it."""
    if not counts:
        return 0, 0.0
    mode = Counter(counts).most_common(1)[0][0]
    first = counts.index(mode)
    tail = counts[first:]
    return mode, sum(1 for c in tail if c == mode) / len(tail)


def choose_delimiter(lines: list[str], prefer: str | None = None) -> str:
    """The delimiter whose records have the most consistent number of fields (ties: more fields, then order)."""
    order = ((prefer,) if prefer else ()) + tuple(d for d in DELIMITERS if d != prefer)
    best: tuple[float, int, int] | None = None
    chosen = prefer or DELIMITERS[0]
    for rank, delimiter in enumerate(order):
        counts = [len(cells) for _, cells in _records(lines[:60], delimiter)]
        mode, consistency = _mode(counts)
        if mode < 2:
            continue
        key = (round(consistency, 2), mode, -rank)
        if best is None or key > best:
            best, chosen = key, delimiter
    return chosen


def infer_values(rows: Iterable[list[str]], delimiter: str) -> tuple[str, bool]:
    """(decimal mark, day-first) from the cells of data rows."""
    comma = dot = day_evidence = month_evidence = 0
    for cells in rows:
        for cell in cells:
            c = cell.strip()
            if not c or (not c[0].isdigit() and c[0] not in "+-"):
                continue
            if _COMMA_DECIMAL.match(c):
                comma += 1
            elif _DOT_DECIMAL.match(c):
                dot += 1
            match = _DATE_PREFIX.match(c)
            if match:
                first, second = int(match.group(1)), int(match.group(2))
                if first > 12 >= second:
                    day_evidence += 1
                elif second > 12 >= first:
                    month_evidence += 1
    if delimiter == ",":
        decimal = "."
    elif comma or not dot:
        decimal = ","
    else:
        decimal = "."
    dayfirst = not (month_evidence and not day_evidence)
    return decimal, dayfirst


def sniff(text: str, *, complete: bool = True, delimiter: str | None = None, prefer: str | None = None) -> Dialect:
    """The dialect of a CSV sample (the decoded head of a file).

    ``delimiter`` forces the delimiter; ``prefer`` only breaks ties. A first line ``sep=X`` (Excel) sets
    the delimiter and is skipped.
    """
    lines = sample_lines(text, complete)
    preamble = 0
    if lines:
        match = _SEP_LINE.match(lines[0])
        if match:
            delimiter = delimiter or match.group(1)
            preamble = 1
    body = lines[preamble:]
    if delimiter is None:
        delimiter = choose_delimiter(body, prefer)
    records = _records(body, delimiter, first_line=preamble + 1)
    mode, _ = _mode([len(cells) for _, cells in records])
    header_index = next((i for i, (_, cells) in enumerate(records) if len(cells) == mode), 0)
    header_line = records[header_index][0] if records else preamble + 1
    decimal, dayfirst = infer_values((cells for _, cells in records[header_index + 1:]), delimiter)
    return Dialect(delimiter=delimiter, decimal=decimal, dayfirst=dayfirst, preamble=preamble,
                   header_line=header_line)


def records(text: str, dialect: Dialect, complete: bool = True,
            limit: int = SAMPLE_LINES) -> list[tuple[int, list[str]]]:
    """The non-blank records of a sample read with ``dialect``, each with its first physical line."""
    lines = sample_lines(text, complete, limit)
    return _records(lines[dialect.preamble:], dialect.delimiter, first_line=dialect.preamble + 1)
