"""The vectorised fast path of profile CSVs: a block of lines at a time with pyarrow and numpy.

The row path (profiles.py) costs ~15 µs a row; millions of GPS fixes need far less. A block goes
through here only if it holds nothing the row path would read differently: printable ASCII, no
quote, no space next to a delimiter or line end, every value of the strict shape below. Anything
else — a conversion error, an empty required value, a coordinate out of range, an hour next to a
clock change or a sentinel date — makes ``read_block`` return None and the block takes the row path,
so tables, rejects and warnings are the same either way (tests/unit/test_profiles.py checks it).

Strict shapes: numbers as pyarrow reads them with the file's decimal mark (finite only); datetimes
of exactly 19 characters, ``dd/mm/yyyy HH:MM:SS`` (or ``mm/dd`` when the file is month-first) or
ISO ``yyyy-mm-dd HH:MM:SS``, decoded and range-checked digit by digit with numpy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pv

from auditor.io.times import SENTINELS
from auditor.sources.base import string_buffers

pc: Any = _compute  # kernels on arrays: the stubs' overloads do not follow them

#: Column types read here (others make the whole file take the row path).
FAST_TYPES = frozenset({"string", "number", "integer", "datetime"})
_ARROW = {"string": pa.string(), "number": pa.float64(), "integer": pa.int64(), "datetime": pa.string()}
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@dataclass(frozen=True)
class FastColumn:
    """One cell index read into one canonical field."""

    index: int
    type: str
    field: str
    scale: float | None = None


@dataclass(frozen=True)
class FastPlan:
    """How the blocks of one file are read: layout, columns, and the rules applied to the result."""

    width: int
    delimiter: str
    decimal: str
    dayfirst: bool
    columns: tuple[FastColumn, ...]
    constants: tuple[tuple[str, str], ...]  # (field, value): the agent named on the command line
    required: tuple[str, ...]
    coordinates: bool
    integer_fields: frozenset[str]  # canonical int64 fields
    tz: tzinfo


def read_block(block: bytes, plan: FastPlan) -> tuple[dict[str, Any], int] | None:
    """Canonical columns of the block and the number of naive times, or None (take the row path)."""
    if not _plain(block):
        return None
    names = [f"c{i}" for i in range(plan.width)]
    types = {f"c{c.index}": _ARROW[c.type] for c in plan.columns}
    try:
        table = pv.read_csv(
            io.BytesIO(block),
            read_options=pv.ReadOptions(column_names=names, block_size=len(block) + 1),
            parse_options=pv.ParseOptions(delimiter=plan.delimiter, quote_char=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types=types, include_columns=list(types), null_values=[""], strings_can_be_null=True,
                decimal_point=plan.decimal, true_values=[], false_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    out: dict[str, Any] = {}
    naive = 0
    for column in plan.columns:
        values = table.column(f"c{column.index}").combine_chunks()
        if column.type == "datetime":
            converted = _instants(values, plan)
            if converted is None:
                return None
            out[column.field] = converted
            naive += len(converted) - converted.null_count
            continue
        if column.type == "string" and not _trimmed(values):
            return None
        if column.type in ("number", "integer"):
            if column.type == "number" and values.null_count < len(values):
                finite = pc.is_finite(values)
                if not pc.all(finite).as_py():
                    return None
            if column.scale is not None:
                values = pc.multiply(values.cast(pa.float64()), pa.scalar(column.scale))
            target = pa.int64() if column.field in plan.integer_fields else pa.float64()
            if target == pa.int64() and values.type != pa.int64():
                return None  # a fraction check belongs to the row path
            values = values.cast(target)
        out[column.field] = values
    length = table.num_rows
    for name, value in plan.constants:
        out[name] = pa.repeat(pa.scalar(value, pa.string()), length)
    for name in plan.required:
        if name not in out or out[name].null_count:
            return None
    if plan.coordinates and not _coordinates_ok(out):
        return None
    return out, naive


def _plain(block: bytes) -> bool:
    """No quote (a quoted value may hold a delimiter or a line end) and no NUL (the csv module refuses it)."""
    return b'"' not in block and b"\x00" not in block


_EDGE_BLANKS = np.zeros(256, dtype=bool)
_EDGE_BLANKS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True  # what str.strip() removes, in ASCII
_EDGE_BLANKS[128:] = True  # possibly a Unicode blank (NBSP…): checked one by one below
_EXACT_LIMIT = 10_000


def _trimmed(values: Any) -> bool:
    """No value starts or ends with a blank (the row path strips them, the fast path would not)."""
    if len(values) == values.null_count:
        return True
    offsets, data = string_buffers(values)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    starts, ends = starts[filled], ends[filled]
    suspects = np.flatnonzero(_EDGE_BLANKS[data[starts]] | _EDGE_BLANKS[data[ends - 1]])
    if len(suspects) > _EXACT_LIMIT:
        return False
    for i in suspects.tolist():
        text = bytes(data[starts[i]:ends[i]]).decode("utf-8", errors="replace")
        if text != text.strip():
            return False
    return True


def _coordinates_ok(out: dict[str, Any]) -> bool:
    for name, bound in (("lat", 90.0), ("lon", 180.0)):
        values = out.get(name)
        if values is None or values.null_count == len(values):
            continue
        extremes = pc.min_max(values)
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if low < -bound or high > bound:
            return False
    return True


def _instants(values: Any, plan: FastPlan) -> Any:
    """UTC instants of 19-character naive datetimes (nulls kept), or None when one needs the row path."""
    valid = values.is_valid()
    present = values.drop_null() if values.null_count else values
    if len(present) == 0:
        return pa.nulls(len(values), pa.timestamp("us", tz="UTC"))
    offsets, data = string_buffers(present)
    if not np.all(np.diff(offsets) == 19):
        return None
    start = int(offsets[0])
    cells = data[start:start + 19 * len(present)].reshape(len(present), 19)
    local = _local_seconds(cells, plan.dayfirst)
    if local is None:
        return None
    utc = _to_utc(local, plan.tz)
    if utc is None:
        return None
    stamps: Any = pa.array(utc * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    if values.null_count:
        positions = np.cumsum(np.asarray(valid.to_numpy(zero_copy_only=False), dtype=np.int64)) - 1
        stamps = stamps.take(pa.array(np.clip(positions, 0, None)))
        stamps = pc.if_else(valid, stamps, pa.scalar(None, stamps.type))
    return stamps


def _local_seconds(cells: np.ndarray, dayfirst: bool) -> np.ndarray | None:
    """Seconds since 1970 (wall clock) of ``dd/mm/yyyy HH:MM:SS`` or ``yyyy-mm-dd HH:MM:SS`` rows."""
    first = cells[0]
    if first[2] == ord("/"):
        template, day_at, month_at, year_at = b"00/00/0000 00:00:00", 0, 3, 6
    elif first[4] == ord("-"):
        template, day_at, month_at, year_at = b"0000-00-00 00:00:00", 8, 5, 0
    else:
        return None
    seps = [i for i, c in enumerate(template) if c != ord("0") and i != 10]
    digit_at = [i for i, c in enumerate(template) if c == ord("0")]
    if not np.array_equal(cells[:, seps], np.broadcast_to(np.frombuffer(template, np.uint8)[seps],
                                                           (len(cells), len(seps)))):
        return None
    middle = cells[:, 10]
    if not (np.all(middle == ord(" ")) or (year_at == 0 and np.all((middle == ord(" ")) | (middle == ord("T"))))):
        return None
    digits = cells[:, digit_at] - np.uint8(48)  # wraps below '0' to large values
    if digits.max() > 9:
        return None
    d = digits.astype(np.int32)
    where = {at: k for k, at in enumerate(digit_at)}

    def number(at: int, width: int) -> np.ndarray:
        value = d[:, where[at]]
        for i in range(at + 1, at + width):
            value = value * 10 + d[:, where[i]]
        return value

    day, month = number(day_at, 2), number(month_at, 2)
    if year_at == 6 and not dayfirst:
        day, month = month, day
    year = number(year_at, 4)
    hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
    if (month.min() < 1 or month.max() > 12 or day.min() < 1 or hour.max() > 23 or minute.max() > 59
            or second.max() > 59 or year.min() < 1):
        return None
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    if np.any(day > _DAYS[month] + (leap & (month == 2))):
        return None
    days = _days_from_civil(year.astype(np.int64), month.astype(np.int64), day.astype(np.int64))
    local: np.ndarray = days * 86400 + (hour * 3600 + minute * 60 + second)
    return local


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: np.ndarray = era * 146097 + doe - 719468
    return result


def _to_utc(local: np.ndarray, tz: tzinfo) -> np.ndarray | None:
    """UTC seconds of wall-clock seconds in ``tz``; None if an hour is next to a clock change or a sentinel."""
    hours = local // 3600
    low = int(hours.min())
    span = int(hours.max()) - low + 1
    if span > 1_000_000:
        return None  # a block spanning over a century: let the row path decide
    present = np.flatnonzero(np.bincount(hours - low, minlength=span))
    table = np.zeros(span, dtype=np.int64)
    for hour in present.tolist():
        shift = _hour_shift(low + hour, tz)
        if shift is None:
            return None
        table[hour] = shift
    result: np.ndarray = local - table[hours - low]
    return result


@lru_cache(maxsize=1 << 16)
def _hour_shift(hour: int, tz: tzinfo) -> int | None:
    """Seconds to subtract from the wall clock in hour ``hour`` (since 1970) to get UTC, if regular."""
    offset = regular_offset(datetime(1970, 1, 1) + timedelta(hours=hour), tz)
    return None if offset is None else int(offset.total_seconds())


def regular_offset(value: datetime, tz: tzinfo) -> timedelta | None:
    """The UTC offset of the whole wall-clock hour of ``value`` if it is unambiguous and far from sentinels."""
    start = value.replace(minute=0, second=0, microsecond=0)
    if start.year < 1902 or start.year > 9998:
        return None
    end = start + timedelta(hours=1) - timedelta(microseconds=1)
    found = {moment.replace(tzinfo=tz, fold=fold).utcoffset() for moment in (start, end) for fold in (0, 1)}
    if len(found) != 1:
        return None
    offset = found.pop()
    if offset is None:
        return None
    instant = (start - offset).replace(tzinfo=UTC)
    if any(abs(instant - sentinel) < timedelta(days=2) for sentinel in SENTINELS):
        return None
    return offset


