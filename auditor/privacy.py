"""Keyed pseudonyms and small-group suppression: what lets a committee report exist without exposing anyone.

* A pseudonym is ``HMAC-SHA256(key, identifier)``, shortened and written in a readable alphabet. The same key
  always gives the same pseudonym (so a committee can follow "agent K7QF…" across tables and runs); another key
  gives unrelated ones (so two reports made with different keys cannot be linked). Without the key, the
  pseudonym cannot be reversed by trying the names of the staff list.
* k-suppression: any count, share or distribution bin that describes fewer than ``k`` agents (default 5) is
  replaced by "fewer than k" before it reaches a committee report.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from auditor.errors import UsageError

DEFAULT_K = 5
KEY_BYTES = 32
PSEUDONYM_LENGTH = 10


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def load_or_create_key(path: Path) -> bytes:
    """The key stored in ``path`` (hex), or a new one written there readable by its owner only."""
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) < 16:  # not a key this program wrote: pseudonyms from it would not match earlier reports
            raise UsageError("key-invalid", path=str(path))
        return key
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


@lru_cache(maxsize=1 << 16)  # the committee report names each agent under several findings
def pseudonym(identifier: str, key: bytes, prefix: str = "A-") -> str:
    digest = hmac.new(key, identifier.strip().encode("utf-8"), hashlib.sha256).digest()
    return prefix + base64.b32encode(digest).decode("ascii")[:PSEUDONYM_LENGTH]


def is_small(count: int | None, k: int = DEFAULT_K) -> bool:
    """True when ``count`` people is too few to show (zero is a fact about nobody, so it can be shown)."""
    return count is not None and 0 < count < k


def suppress_counts(counts: Mapping[str, int], k: int = DEFAULT_K) -> dict[str, int | None]:
    """Counts per group, with every group of fewer than ``k`` replaced by None ("fewer than k")."""
    return {group: (None if is_small(n, k) else n) for group, n in counts.items()}
