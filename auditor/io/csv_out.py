"""CSV outputs (findings, rejects) that a spreadsheet cannot run: formula injection neutralised, written atomically.

Exported values come from the inputs — an agent name, a URL, a rejected line — and so from whoever wrote
them. Excel and LibreOffice treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula (DDE,
``HYPERLINK`` to an attacker's site…), and a leading tab or CR can hide such a start. Following OWASP's
advice, such a cell gets a leading ``'``: spreadsheets then show it as text, and a reader can still see
the original value. Numbers stay numbers (``-3`` is not a formula). Files are UTF-8 with a BOM (Excel
reads accents right), ``;``-separated as French Excel expects, written through ``auditor.io.output``
(temporary file then rename, owner-only).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from auditor.io.output import atomic_open

#: Leading characters a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell text for ``value``: '' for None, numbers as they are, risky text behind a ``'``."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(target: Path, header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ";") -> int:
    """Write ``header`` and ``rows`` to ``target`` atomically; returns the number of data rows."""
    count = 0
    with atomic_open(target, encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([neutralise(name) for name in header])
        for row in rows:
            writer.writerow([neutralise(value) for value in row])
            count += 1
    return count
