"""Zip archives of exports, opened safely: members are read as streams, never extracted to disk.

Limits (checked on the central directory before anything is decompressed; zipfile itself stops reading a
member at its declared size, so a lying header cannot inflate past these): entry count, total and
per-member uncompressed size, compression ratio, nesting depth. Names that would leave the archive
(absolute, ``..``), symbolic links and encrypted members refuse the whole archive: an export that
contains them was not made by the tool.
"""

from __future__ import annotations

import io
import stat
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from auditor.errors import InputError

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    max_entries: int = 10_000
    max_member: int = 4 << 30  # bytes, uncompressed
    max_total: int = 16 << 30
    max_ratio: float = 200.0
    max_depth: int = 2


LIMITS = Limits()


def looks_like_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def is_office_document(archive: zipfile.ZipFile) -> bool:
    """XLSX/DOCX/ODS are zip files too, but they are documents a parser reads whole."""
    names = set(archive.namelist())
    return "[Content_Types].xml" in names or "mimetype" in names


def safe_members(archive: zipfile.ZipFile, display: str, limits: Limits | None = None) -> list[zipfile.ZipInfo]:
    """The file members of ``archive`` in name order, or InputError('archive-unsafe') naming the problem."""
    limits = limits or LIMITS
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise InputError("archive-unsafe", display, detail=f"{len(infos)} entries > {limits.max_entries}")
    total = 0
    members = []
    for info in infos:
        name = info.filename
        if not name.strip("/"):
            raise InputError("archive-unsafe", display, detail="a member has no name")
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
            raise InputError("archive-unsafe", display, detail=f"path leaves the archive: {name!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError("archive-unsafe", display, detail=f"symbolic link: {name!r}")
        if info.flag_bits & 0x1:
            raise InputError("archive-unsafe", display, detail=f"encrypted member: {name!r}")
        if info.is_dir():
            continue
        if info.file_size > limits.max_member:
            raise InputError("archive-unsafe", display, detail=f"{name!r} is {info.file_size} bytes unpacked")
        if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise InputError("archive-unsafe", display,
                             detail=f"{name!r} compression ratio above {limits.max_ratio:.0f} (zip bomb?)")
        total += info.file_size
        if total > limits.max_total:
            raise InputError("archive-unsafe", display, detail=f"more than {limits.max_total} bytes unpacked")
        if not any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
            members.append(info)
    return sorted(members, key=lambda i: i.filename)


def open_archive(stream: BinaryIO, display: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise InputError("archive-unsafe", display, detail=f"not a readable zip: {error}") from None


#: Archives already opened, per root opener (one per input file) and member chain. Reading the central
#: directory of an archive of n entries costs O(n); doing it again for each member (detection, hashing,
#: parsing) made an archive of 3000 entries take a minute. The entry dies with the input's Source.
_OPENED: weakref.WeakKeyDictionary[Callable[[], BinaryIO], dict[tuple[str, ...], zipfile.ZipFile]] = (
    weakref.WeakKeyDictionary()
)


def _close_all(opened: dict[tuple[str, ...], zipfile.ZipFile], stream: BinaryIO) -> None:
    for archive in reversed(opened.values()):
        archive.close()
    stream.close()


def _opened(open_outer: Callable[[], BinaryIO], chain: tuple[str, ...], display: str) -> zipfile.ZipFile:
    """The archive at ``chain`` (() is the file itself), opened once and kept while its input lives."""
    opened = _OPENED.get(open_outer)
    if opened is None:
        stream = open_outer()
        try:
            opened = {(): open_archive(stream, display)}
        except BaseException:
            stream.close()
            raise
        _OPENED[open_outer] = opened
        weakref.finalize(open_outer, _close_all, opened, stream)
    archive = opened.get(chain)
    if archive is None:
        parent = _opened(open_outer, chain[:-1], display)
        archive = opened[chain] = open_archive(parent.open(chain[-1]), display)  # type: ignore[arg-type]
    return archive


class MemberStream(io.RawIOBase):
    """A member of a (possibly nested) zip as a readable stream.

    A full ``io`` object (``io.TextIOWrapper`` asks for ``writable``, ``closed``…), so a CSV read from an
    archive decodes exactly like one read from disk. The archives around it are shared (see ``_OPENED``).
    """

    def __init__(self, open_outer: Callable[[], BinaryIO], chain: tuple[str, ...], display: str) -> None:
        super().__init__()
        self._stream: BinaryIO = _opened(open_outer, chain[:-1], display).open(chain[-1])  # type: ignore[assignment]

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(-1 if size is None else size)

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._stream.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        if hasattr(self, "_stream"):
            self._stream.close()
        super().close()
