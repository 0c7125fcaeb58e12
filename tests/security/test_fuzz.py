"""Bounded, structure-aware fuzzing of every parser (marker ``fuzz``; the long run is in docs/security.md).

tests/property/test_formats.py throws random bytes and byte flips at the parsers. This goes one level up:
it starts from a *valid* file of the format (a rendered hypothesis export, or the committed sample) and
damages it the way real files and attackers do — lines dropped, doubled, swapped, cut; hostile tokens
(delimiters, quotes, NUL, lone CR, a BOM in the middle, huge numbers, dates at the edges of time, markup)
inserted at line and field boundaries; the whole re-encoded. The parser, with detection bypassed, must
then raise only ``InputError`` or read the file with every row accounted for (read = kept + rejected) and
every row and reject pointing at a real position (``source_row`` ≥ 1).
"""

from __future__ import annotations

import contextlib
import functools

import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.sources import registry
from auditor.sources.base import Parser, Source
from auditor.testing import strategies
from tests.security.conftest import examples
from tests.security.corpus import sample_of

pytestmark = pytest.mark.fuzz

NAMES = [p.name for p in registry.parsers()]
TOKENS = [
    b"\x00", b"\r", b"\r\n", b"\n\n", b";", b",", b"\t", b'"', b"'", b'""', b"\\", b"\xef\xbb\xbf", b"\xff\xfe",
    b"\xc3", b"\xe2\x80\xa8", b"9" * 400, b"-1e309", b"NaN", b"1901-12-13T20:45:52Z", b"2100-12-31 23:59:59",
    b"31/02/2025", b"25:61:61", b"30/03/2025 02:30", b"<!DOCTYPE x>", b"&lol;", b"]]>", b"</", b"{", b"}", b"[",
    b"]", b"BEGIN:VEVENT", b"END:VCALENDAR", b"RRULE:FREQ=SECONDLY", b"=cmd|' /C calc'!A0", b"<img src=x>",
    b"\xf0\x9f\x98\x80", b" " * 300,
]


def _renders(parser: Parser) -> bool:
    return type(parser).render is not Parser.render and type(parser).row_strategy is not Parser.row_strategy


@functools.cache
def _sample(name: str) -> bytes:
    data = sample_of(name).read_bytes()[:16384]
    return data[: data.rfind(b"\n") + 1] or data


@st.composite
def _damaged(draw: st.DrawFn, name: str) -> bytes:
    parser = registry.get(name)
    if _renders(parser) and draw(st.booleans()):
        data, _ = draw(strategies.export(name, max_rows=8))
    else:
        data = _sample(name)
    lines = data.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            lines = [b""]
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "double", "swap", "cut", "token", "token-at-field", "blank"]))
        line = lines[at]
        if action == "drop":
            del lines[at]
        elif action == "double":
            lines.insert(at, line)
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], line
        elif action == "cut":
            lines[at:] = [line[: draw(st.integers(0, len(line)))]]
        elif action == "token":
            where = draw(st.integers(0, len(line)))
            lines[at] = line[:where] + draw(st.sampled_from(TOKENS)) + line[where:]
        elif action == "token-at-field":
            separators = [i for i, c in enumerate(line) if c in b';,\t "<>:']
            where = draw(st.sampled_from(separators)) if separators else 0
            lines[at] = line[:where] + draw(st.sampled_from(TOKENS)) + line[where:]
        else:
            lines.insert(at, b"\n")
    out = b"".join(lines)
    encoding = draw(st.sampled_from(["as-is", "as-is", "as-is", "utf-16", "utf-16-le", "cp1252"]))
    if encoding != "as-is":
        out = out.decode("utf-8", errors="replace").encode(encoding, errors="replace")
    return out


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@settings(max_examples=examples(25))
def test_damaged_valid_files_are_refused_or_fully_accounted(name: str, data: st.DataObject) -> None:
    parser = registry.get(name)
    raw = data.draw(_damaged(name))
    file_name = sample_of(name).name
    with contextlib.suppress(InputError):
        dataset = load([Source.from_bytes(raw, file_name)], ReadOptions(parser=name, agent="agent"))
        [provenance] = dataset.provenance
        assert provenance.rows_in == provenance.rows_parsed + provenance.rows_rejected
        assert dataset.rejects.num_rows == provenance.rows_rejected
        table = dataset.tables.get(parser.kind)
        assert (table.num_rows if table is not None else 0) == provenance.rows_parsed
        for rows in (table, dataset.rejects):
            if rows is not None and rows.num_rows:
                assert pc.min(rows.column("source_row")).as_py() >= 1
