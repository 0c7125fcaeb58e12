"""XLS and XLSX exports read with python-calamine, and what a 64 KiB head can tell about them.

calamine needs the whole file (an XLSX's zip directory is at its end), so parsing reads it whole — a
spreadsheet is bounded by Excel's row limit anyway. Sniffing only has the head: when the head is the
complete file the header rows are read exactly; otherwise the strings visible in the head are
collected (XLSX: the shared-strings and sheet XML entries stored before the cut, decompressed as far as
they go; XLS: the runs of Latin-1 or UTF-16 text in the OLE2 streams) so that a profile can still check
its header names.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, BinaryIO

from python_calamine import CalamineWorkbook, load_workbook

from auditor.errors import InputError
from auditor.io.values import cell_text

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_ROWS = 20
MAX_INFLATE = 4 << 20  # bytes of XML inflated from a head, at most

Cell = Any  # str | float | int | bool | datetime | date | time | timedelta, as calamine gives them

_XML_TEXT = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_LATIN_RUN = re.compile(rb"[\x20-\x7e\xa0-\xff]{2,}")
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e\xa0-\xff]\x00){2,}")
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


def workbook_kind(raw: bytes) -> str | None:
    """``"xls"`` (OLE2 compound file), ``"xlsx"`` (a zip holding ``xl/``) or None."""
    if raw.startswith(OLE2_MAGIC):
        return "xls"
    if raw.startswith(ZIP_MAGIC) and (b"xl/" in raw or b"[Content_Types].xml" in raw):
        return "xlsx"
    return None


def open_workbook(binary: BinaryIO, file: str) -> CalamineWorkbook:
    """The workbook in ``binary``; an unreadable one is an InputError naming the file."""
    try:
        return load_workbook(io.BytesIO(binary.read()))
    except Exception as error:  # calamine raises its own errors, and ValueError/OSError on garbage
        raise InputError("file-unreadable", file, detail=str(error)[:200]) from None


def sheets(workbook: CalamineWorkbook, file: str) -> Iterator[tuple[str, Iterator[tuple[int, list[Cell]]]]]:
    """(sheet name, rows numbered as in Excel from 1) for every sheet, in workbook order."""
    for index, name in enumerate(workbook.sheet_names):
        try:
            sheet = workbook.get_sheet_by_index(index)
        except Exception as error:
            raise InputError("file-unreadable", file, detail=f"{name}: {str(error)[:200]}") from None
        # calamine's rows start at the sheet's first row (leading blank rows included), so the
        # enumeration is the Excel row number; leading blank columns are dropped, which no header needs.
        yield name, enumerate(sheet.iter_rows(), start=1)


@lru_cache(maxsize=4)
def head_rows(raw: bytes, limit: int = HEAD_ROWS) -> tuple[tuple[tuple[int, tuple[str, ...]], ...], ...] | None:
    """The first ``limit`` non-blank rows of every sheet as text, when ``raw`` is a whole workbook."""
    try:
        workbook = load_workbook(io.BytesIO(raw))
        out = []
        for index in range(len(workbook.sheet_names)):
            rows = []
            for number, row in enumerate(workbook.get_sheet_by_index(index).iter_rows(), start=1):
                texts = tuple(cell_text(c).strip() for c in row)
                if any(texts):
                    rows.append((number, texts))
                if len(rows) >= limit or number > 10 * limit:
                    break
            out.append(tuple(rows))
        return tuple(out)
    except Exception:  # a truncated or hostile file: the caller falls back to head_strings
        return None


def _inflate(data: bytes, method: int) -> bytes:
    if method == 0:
        return data[:MAX_INFLATE]
    if method != 8:
        return b""
    try:
        return zlib.decompressobj(-15).decompress(data, MAX_INFLATE)
    except zlib.error:
        return b""


def _xlsx_strings(raw: bytes) -> set[str]:
    """Text of the XML string entries stored (even partly) in a zip head."""
    found: set[str] = set()
    offset = 0
    while offset + _LOCAL_HEADER.size <= len(raw) and raw.startswith(ZIP_MAGIC, offset):
        _, _, flags, method, _, _, _, size, _, name_len, extra_len = _LOCAL_HEADER.unpack_from(raw, offset)
        start = offset + _LOCAL_HEADER.size
        name = raw[start:start + name_len]
        data_start = start + name_len + extra_len
        if flags & 0x08 and size == 0:  # sizes in a trailing descriptor: inflate to find the end
            stream = zlib.decompressobj(-15)
            try:
                content = stream.decompress(raw[data_start:], MAX_INFLATE) if method == 8 else b""
            except zlib.error:
                content = b""
            if name.startswith(b"xl/") and name.endswith(b".xml"):
                found.update(_texts(content))
            if method != 8 or not stream.eof:
                break
            offset = len(raw) - len(stream.unused_data)
            offset += 16 if raw.startswith(b"PK\x07\x08", offset) else 12
            continue
        if name == b"xl/sharedStrings.xml" or name.startswith(b"xl/worksheets/"):
            found.update(_texts(_inflate(raw[data_start:data_start + size], method)))
        offset = data_start + size
    return found


def _texts(xml: bytes) -> set[str]:
    return {html.unescape(m.decode("utf-8", errors="replace")).strip() for m in _XML_TEXT.findall(xml)} - {""}


def _xls_strings(raw: bytes) -> set[str]:
    """Runs of text in an OLE2 head: BIFF8 strings are Latin-1 ('compressed') or UTF-16-LE."""
    found = {m.decode("latin-1").strip() for m in _LATIN_RUN.findall(raw)}
    for aligned in (raw, raw[1:]):
        found.update(m.decode("utf-16-le").strip() for m in _UTF16_RUN.findall(aligned))
    return found - {""}


@lru_cache(maxsize=4)
def head_strings(raw: bytes) -> frozenset[str]:
    """Strings visible in the head of an XLS or XLSX file that is larger than the head."""
    kind = workbook_kind(raw)
    if kind == "xlsx":
        return frozenset(_xlsx_strings(raw))
    if kind == "xls":
        return frozenset(_xls_strings(raw))
    return frozenset()
