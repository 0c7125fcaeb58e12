"""Writing outputs: atomically (temporary file then rename), owner-only, never outside the target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(path: Path) -> Path:
    """``path`` and every missing folder above it, created owner-only (``mkdir(parents=True)`` would give the
    intermediate ones the default mode); existing folders are left as they are."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is reduced by the umask; never widened by it here
    return path


@contextmanager
def _replacing(target: Path) -> Iterator[tuple[int, str]]:
    """A new temporary file beside ``target`` (its descriptor and path), renamed onto it only if the block
    succeeds, removed otherwise."""
    ensure_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        yield fd, tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed onto it only if the block succeeds."""
    with _replacing(target) as (fd, tmp):
        os.close(fd)
        yield Path(tmp)


@contextmanager
def atomic_open(target: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[str]]:
    """``atomic_path`` for a text written through one handle: the temporary file's own, open from its creation
    (a third of the system calls; a batch of personal reports writes thousands of small files)."""
    with _replacing(target) as (fd, _), open(fd, mode, encoding=encoding, newline="") as handle:
        yield handle


def write_text(target: Path, text: str) -> None:
    with atomic_open(target) as handle:
        handle.write(text)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
