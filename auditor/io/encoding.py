"""The encoding cascade: BOM → strict UTF-8 → declared → charset-normalizer → cp1252 (never latin-1).

French Excel writes "CSV (séparateur: point-virgule)" in cp1252 and "CSV UTF-8" with a BOM; Teams
writes UTF-16. latin-1 never fails, and so silently garbles `’`, `œ` and `€` (0x80–0x9F): we never
use it. A guess other than a BOM or valid UTF-8 is reported as a warning.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_ACCEPTED_GUESSES = {"utf_8": "utf-8", "cp1252": "cp1252", "utf_16": "utf-16", "utf_16_le": "utf-16-le",
                     "utf_16_be": "utf-16-be", "iso8859_15": "cp1252", "latin_1": "cp1252",
                     "iso8859_1": "cp1252", "ascii": "utf-8", "mac_roman": "cp1252"}

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class Encoding:
    """The encoding chosen for a file and how: ``bom``, ``utf-8``, ``declared``, ``guessed``, ``fallback``."""

    name: str
    how: str
    bom_length: int = 0

    @property
    def is_guess(self) -> bool:
        return self.how in ("guessed", "fallback")


def _strip_partial_tail(head: bytes) -> bytes:
    """Drop an incomplete UTF-8 sequence cut by the sample boundary."""
    for back in range(1, 4):
        if len(head) >= back and (head[-back] & 0xC0) == 0xC0:
            need = 2 if head[-back] < 0xE0 else 3 if head[-back] < 0xF0 else 4
            return head[:-back] if need > back else head
        if len(head) >= back and head[-back] < 0x80:
            return head
    return head


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def detect(head: bytes, declared: str | None = None, *, complete: bool = False) -> Encoding:
    """Choose the encoding of a file from its first bytes (``complete``: ``head`` is the whole file)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return Encoding(name, "bom", len(bom))
    utf16 = _utf16_without_bom(head)
    if utf16:
        return Encoding(utf16, "guessed")
    sample = head if complete else _strip_partial_tail(head)
    try:
        sample.decode("utf-8")
        return Encoding("utf-8", "utf-8")
    except UnicodeDecodeError:
        pass
    match = _XML_DECL.match(head)
    declared = declared or (match.group(1).decode("ascii") if match else None)
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            name = ""
        if name and name not in ("latin-1", "iso8859-1"):
            try:
                sample.decode(name)
                return Encoding(name, "declared")
            except UnicodeDecodeError:
                pass
    best = from_bytes(sample[:65536]).best()
    if best is not None:
        guessed = _ACCEPTED_GUESSES.get(best.encoding)
        if guessed and guessed != "utf-8":
            return Encoding(guessed, "guessed")
    return Encoding("cp1252", "fallback")


def decode_head(head: bytes, encoding: Encoding) -> str:
    """Text of a sample for sniffing; never raises."""
    return head[encoding.bom_length:].decode(encoding.name, errors="replace")
