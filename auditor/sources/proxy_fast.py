"""The vectorised fast path of Squid native logs: a block of lines at a time with pyarrow's CSV reader.

The row path (``SquidNative._rows``) splits each line in Python. A block is read here instead when
every line is plain ASCII (no tab or control byte, so whitespace means spaces) and opens with a
``ssssssssss.mmm`` stamp and the elapsed time squid right-aligns in six characters. Those padding
spaces become leading zeros (``   178`` → ``000178``, the same number), after which the fields are
exactly one space apart: pyarrow's CSV reader splits and types them in one pass (measured: 0.33 s of
CPU for 1 M lines, where reading lines, ``ascii_split_whitespace`` and one ``take`` per field cost 0.77 s).
Methods, results (``TCP_MISS/200``), logins and hosts are checked or mapped once per distinct value, by
the row path's own functions. A line with another number of fields, a space too many, a method, result
or size the row path would reject makes ``read_block`` return None and the block takes the row path,
which rejects or repairs it exactly as before (tests/unit/test_proxy_logs.py and test_fast_squid.py
compare both paths)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pv

from auditor.sources.base import string_buffers, tiled

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
    data = np.frombuffer(block, np.uint8)
    ends = _plain_line_ends(block, data)
    if ends is None:
        return None
    starts = _line_starts(data, ends)
    if len(data) - int(starts[-1]) < _STAMP + 2 + _ELAPSED_WIDTH:
        return None  # a last line too short to hold a stamp and an elapsed time
    padded = _unpadded(data, starts)
    if padded is None:
        return None
    try:
        fields: Any = pv.read_csv(
            pa.BufferReader(padded),  # type: ignore[arg-type]  # zero-copy
            read_options=pv.ReadOptions(column_names=[f"f{i}" for i in range(FIELDS)], block_size=len(padded) + 1,
                                        use_threads=False),
            parse_options=pv.ParseOptions(delimiter=" ", quote_char=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(column_types=_TYPES, include_columns=list(_TYPES), null_values=[],
                                              strings_can_be_null=False, true_values=[], false_values=[],
                                              check_utf8=False),  # plain ASCII (checked above)
        )
        stamp, elapsed, client, result, size, method, url, login = (fields.column(f"f{i}").combine_chunks()
                                                                    for i in range(8))
        when = _stamps(stamp)
        if when is None:
            return None
        methods = _distinct(method)
        if not all(m.isalpha() or _is_token(m) for m in methods.dictionary.to_pylist()):
            return None
        action, status = _results(result)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if len(elapsed) != len(starts):
        return None  # pragma: no cover - a line break the line starts missed: cannot happen in plain ASCII
    user = _mapped(login, user_of)
    client_ip = pc.if_else(pc.equal(client, "-"), pa.scalar(None, pa.string()), client)
    agent = pc.coalesce(user, client_ip, pa.scalar(agent_hint, pa.string()))
    connects = _count(methods, "CONNECT")
    return Block({"agent": agent, "client_ip": client_ip, "time": when, "duration_ms": elapsed, "method": method,
                  "url": url, "domain": _mapped(url, domain_of), "status": status, "bytes": size,
                  "action": action}, connects)


#: Fields 0 to 7 as pyarrow reads them once the padding is gone (the stamp as text, decoded by ``_stamps``).
_TYPES = {"f0": pa.string(), "f1": pa.int64(), "f2": pa.string(), "f3": pa.string(), "f4": pa.int64(),
          "f5": pa.string(), "f6": pa.string(), "f7": pa.string()}
_ELAPSED_WIDTH = 6  # ``%6tr``: squid right-aligns the elapsed time in six characters


def _plain_line_ends(block: bytes, data: np.ndarray) -> np.ndarray | None:
    """Offsets of the LFs of a block of plain ASCII lines without a CR, or None.

    ``b"\\r" not in block and plain_ascii(block)``, keeping the LFs it finds: with no CR, plain means ASCII,
    no DEL, and no byte below 32 but the LFs (``_line_starts`` needs them, one pass over the block saved).
    """
    if b"\r" in block or not block.isascii() or b"\x7f" in block:
        return None
    ends = np.flatnonzero(data == 10)
    if np.count_nonzero(data < 32) != len(ends):
        return None
    return ends


def _line_starts(data: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Offsets of the first byte of every line of the block, from the offsets of its LFs."""
    if len(ends) and ends[-1] == len(data) - 1:
        ends = ends[:-1]
    starts: np.ndarray = np.concatenate(([0], ends + 1))
    return starts


_STAMP_SHAPE = np.frombuffer(b"0000000000.000", np.uint8)
_STAMP_LIMITS = np.where(np.equal(_STAMP_SHAPE, ord("0")), 9, 0).astype(np.uint8)  # see profiles_fast._limits


def _stamps(stamps: Any) -> Any:
    """UTC instants of ``ssssssssss.mmm`` stamps (the first field of each line), or None.

    The stamps' characters are one contiguous buffer (14 bytes a stamp when every one has the shape): each
    byte is checked at once against the shape (``byte ^ "0"`` is a digit's value, zero for the dot), where
    gathering 15 bytes at each line start cost twice as much."""
    offsets, chars = string_buffers(stamps)
    n = len(stamps)
    if not np.all(np.diff(offsets) == _STAMP):
        return None
    first = int(offsets[0])
    values = np.bitwise_xor(chars[first:first + _STAMP * n], tiled(_STAMP_SHAPE, n))
    if np.greater(values, tiled(_STAMP_LIMITS, n)).any():
        return None
    digits = values.reshape(n, _STAMP)
    millis = np.zeros(n, dtype=np.int64)
    for at in (*range(10), 11, 12, 13):  # seconds then milliseconds, the dot skipped
        millis = millis * 10 + digits[:, at]
    return pa.Array.from_buffers(pa.timestamp("us", tz="UTC"), n, [None, pa.py_buffer((millis * 1000).data)])


def _unpadded(data: np.ndarray, starts: np.ndarray) -> np.ndarray | None:
    """The block with the spaces that right-align the elapsed time turned into leading zeros.

    ``1774422622.000    178 10.0.0.1`` becomes ``1774422622.000 000178 10.0.0.1``: every field is then
    one space apart, which pyarrow's CSV reader splits (and types) far faster than a split on whitespace;
    ``int("000178") == int("178")``. A run that does not end on a digit means the row path (None).
    """
    padded = data.copy()  # numpy copies without the GIL (``bytearray(block)`` held it)
    position = starts + _STAMP + 1
    running = np.ones(len(starts), dtype=bool)
    for _ in range(_ELAPSED_WIDTH - 1):
        running &= data[position] == ord(" ")
        padded[position[running]] = ord("0")
        position = position + running
    after = data[position]
    if not np.all((after >= ord("0")) & (after <= ord("9"))):
        return None
    return padded


def _distinct(values: Any) -> Any:
    """``values`` dictionary-encoded: methods and results are a few dozen distinct texts in millions of lines."""
    return pc.dictionary_encode(values)


def _count(encoded: Any, value: str) -> int:
    """How many times ``value`` occurs in a dictionary-encoded array."""
    where = encoded.dictionary.index(value).as_py()
    if where < 0:
        return 0
    return int(np.count_nonzero(encoded.indices.to_numpy(zero_copy_only=False) == where))


def _results(result: Any) -> tuple[Any, Any]:
    """Action and HTTP status of ``TCP_MISS/200`` fields, split once per distinct value as the row path
    splits each (``partition("/")``, ``_status``); ValueError where the row path would reject the line."""
    from auditor.sources.proxy_logs import _status

    encoded = _distinct(result)
    actions: list[str] = []
    statuses: list[int | None] = []
    for text in encoded.dictionary.to_pylist():
        action, slash, code = text.partition("/")
        if not slash or not action:
            raise ValueError(text)
        actions.append(action)
        statuses.append(_status(code))
    return (pa.array(actions, pa.string()).take(encoded.indices),
            pa.array(statuses, pa.int64()).take(encoded.indices))


def _is_token(method: str) -> bool:
    from auditor.sources.proxy_logs import _is_token as token

    return token(method)


def _mapped(values: Any, function: Callable[[str], str | None]) -> Any:
    """``function`` of every value, computed once per distinct value (hosts and logins repeat)."""
    encoded = pc.dictionary_encode(values)
    distinct = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return distinct.take(encoded.indices)
