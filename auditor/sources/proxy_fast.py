"""The vectorised fast path of Squid native logs: a block of lines at a time with pyarrow.compute.

The row path (``SquidNative._rows``) splits each line in Python. A block is read here instead when
every line is plain ASCII (no tab or control byte, so whitespace means spaces), has exactly the ten
native fields, a ``ssssssssss.mmm`` time stamp, an alphabetic method and numeric sizes: then the
split is ``ascii_split_whitespace`` and every field a kernel. Anything else makes ``read_block``
return None and the block takes the row path, which rejects or repairs it exactly as before
(tests/unit/test_proxy_logs.py compares both paths).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pv

from auditor.sources.base import plain_ascii, string_buffers

pc: Any = _compute  # kernels on arrays: the stubs' overloads do not follow them

FIELDS = 10
_STAMP = 14  # 1774422622.000


@dataclass
class Block:
    """Canonical columns of a block and what the provenance counts about it."""

    columns: dict[str, Any]
    connects: int


def read_block(block: bytes, agent_hint: str, domain_of: Callable[[str], str | None],
               user_of: Callable[[str], str | None]) -> Block | None:
    """The block's canonical columns, or None when a line needs the row path."""
    if b"\r" in block or not plain_ascii(block):
        return None
    try:
        lines: Any = pv.read_csv(
            io.BytesIO(block),
            read_options=pv.ReadOptions(column_names=["line"], block_size=len(block) + 1),
            parse_options=pv.ParseOptions(delimiter="\x01", quote_char=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        ).column("line").combine_chunks()
        parts = pc.ascii_split_whitespace(lines)
        if not pc.all(pc.equal(pc.list_value_length(parts), FIELDS)).as_py():
            return None
        flat: Any = parts.flatten()
        count = len(lines)
        field = [flat.take(pa.array(np.arange(i, FIELDS * count, FIELDS))) for i in range(8)]
        stamp, elapsed, client, result, size, method, url, login = field
        when = _instants(stamp)
        if when is None or not pc.all(pc.ascii_is_alpha(method)).as_py():
            return None
        pieces = pc.split_pattern(result, "/", max_splits=1)
        if not pc.all(pc.equal(pc.list_value_length(pieces), 2)).as_py():
            return None
        halves: Any = pieces.flatten()
        action = halves.take(pa.array(np.arange(0, 2 * count, 2)))
        code = halves.take(pa.array(np.arange(1, 2 * count, 2)))
        if not pc.all(pc.greater(pc.utf8_length(action), 0)).as_py():
            return None
        no_status = pc.is_in(code, pa.array(["-", "0", "00", "000"]))
        status = pc.if_else(no_status, pa.scalar(None, pa.string()), code).cast(pa.int64())
        duration, size_value = elapsed.cast(pa.int64()), size.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    user = _mapped(login, user_of)
    client_ip = pc.if_else(pc.equal(client, "-"), pa.scalar(None, pa.string()), client)
    agent = pc.coalesce(user, client_ip, pa.scalar(agent_hint, pa.string()))
    connects = pc.sum(pc.equal(method, "CONNECT").cast(pa.int64())).as_py() or 0
    return Block({"agent": agent, "client_ip": client_ip, "time": when, "duration_ms": duration, "method": method,
                  "url": url, "domain": _mapped(url, domain_of), "status": status, "bytes": size_value,
                  "action": action}, connects)


def _instants(stamp: Any) -> Any:
    """UTC instants of ``ssssssssss.mmm`` stamps (epoch seconds and milliseconds), or None."""
    offsets, data = string_buffers(stamp)
    if not np.all(np.diff(offsets) == _STAMP):
        return None
    start = int(offsets[0])
    cells = data[start:start + _STAMP * len(stamp)].reshape(len(stamp), _STAMP)
    if not np.all(cells[:, 10] == ord(".")):
        return None
    digits = np.delete(cells, 10, axis=1) - np.uint8(48)
    if digits.max() > 9:
        return None
    weights = 10 ** np.arange(12, -1, -1, dtype=np.int64)  # 13 digits: seconds then milliseconds
    millis = digits.astype(np.int64) @ weights
    return pa.array(millis * 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _mapped(values: Any, function: Callable[[str], str | None]) -> Any:
    """``function`` of every value, computed once per distinct value (hosts and logins repeat)."""
    encoded = pc.dictionary_encode(values)
    distinct = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return distinct.take(encoded.indices)
