"""Fingerprints of inputs: reports print every input's sha256 so anyone can check what was read."""

from __future__ import annotations

import hashlib
from typing import BinaryIO

CHUNK = 1 << 20


def sha256_of(stream: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
