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

Derived fields are computed block-wide in the order the row path's steps run (``FastNode``, built by
``profiles._fast_nodes``): the first present of several columns, texts joined, a date split into
YEAR/MONTH/DAY/HOUR/MINUTE integer columns, a time plus whole seconds (qmatic's call time: its issue
time is already UTC when the row path adds the waiting time, and so it is here). A combination with no
exact vectorised form (a date column plus a time column, a mapping, a constant that is not text)
leaves the whole file to the row path; a value with no exact form sends its block there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pv

from auditor.io.times import SENTINELS
from auditor.sources.base import string_buffers, tiled

pc: Any = _compute  # kernels on arrays: the stubs' overloads do not follow them

#: Column types read here (others make the whole file take the row path).
FAST_TYPES = frozenset({"string", "number", "integer", "datetime", "duration_s"})
_ARROW = {"string": pa.string(), "number": pa.float64(), "integer": pa.int64(), "datetime": pa.string(),
          "duration_s": pa.float64()}
#: What a column of each type holds once converted: text, int, float, or local (wall-clock) seconds.
KIND_OF = {"string": "text", "number": "float", "integer": "int", "datetime": "local", "duration_s": "float"}
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_FIRST_SECOND = -2145916800  # 1902-01-01: earlier (and sentinel-near) instants take the row path
_LAST_SECOND = 253339200000  # 9998-01-01


@dataclass(frozen=True)
class FastNode:
    """One value of the profile computed for a whole block, in the row path's order of steps.

    ``op`` is ``cell`` (a column read from cell ``index``, of profile ``type``) or a derived op of the
    profile (``column``, ``first_of``, ``join``, ``parts``, ``add_seconds``, ``const``) over ``refs``;
    ``finish`` names the canonical conversion of a field (``time``, ``float``, ``int``, ``text``), empty
    for intermediate nodes.
    """

    id: str
    op: str
    refs: tuple[str, ...] = ()
    index: int = -1
    type: str = ""
    scale: float | None = None
    text: str = ""
    finish: str = ""


@dataclass(frozen=True)
class FastPlan:
    """How the blocks of one file are read: layout, nodes in evaluation order, and the rules applied."""

    width: int
    delimiter: str
    decimal: str
    dayfirst: bool
    nodes: tuple[FastNode, ...]
    fields: tuple[str, ...]  # canonical fields produced (nodes of the same id, finished)
    constants: tuple[tuple[str, str], ...]  # (field, value): the agent named on the command line
    required: tuple[str, ...]
    coordinates: bool
    tz: tzinfo


@dataclass
class _Value:
    """A node's values for the block: an Arrow array (text, int, float) or seconds with a validity mask."""

    kind: str  # text, int, float, local (wall-clock seconds), utc (seconds)
    array: Any = None
    seconds: Any = None  # numpy int64, for local and utc
    valid: Any = None  # numpy bool, for local and utc


class _RowPath(Exception):
    """Raised inside the evaluation when a block holds something only the row path reads exactly."""


def read_block(block: bytes, plan: FastPlan) -> tuple[dict[str, Any], int] | None:
    """Canonical columns of the block and the number of naive times, or None (take the row path)."""
    if not _plain(block):
        return None
    cells = [n for n in plan.nodes if n.op == "cell"]
    try:
        table = pv.read_csv(
            pa.BufferReader(block),  # type: ignore[arg-type]
            read_options=pv.ReadOptions(column_names=[f"c{i}" for i in range(plan.width)],
                                        block_size=len(block) + 1, use_threads=False),
            parse_options=pv.ParseOptions(delimiter=plan.delimiter, quote_char=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types={f"c{n.index}": _ARROW[n.type] for n in cells},
                include_columns=[f"c{n.index}" for n in cells], null_values=[""], strings_can_be_null=True,
                decimal_point=plan.decimal, true_values=[], false_values=[],
                check_utf8=not block.isascii(),  # ASCII is valid UTF-8: a tenth of the read saved
            ),
        )
        env: dict[str, _Value] = {}
        naive = 0
        for node in plan.nodes:
            value = _evaluate(node, env, table, plan)
            if node.finish:
                if value.kind == "local":  # the row path counts each naive time it converts
                    naive += int(np.count_nonzero(value.valid))
                value = _finish(value, node.finish, plan.tz)
            env[node.id] = value
        out = {name: _arrow(env[name]) for name in plan.fields}
    except (_RowPath, pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
        return None
    length = table.num_rows
    for name, constant in plan.constants:
        out[name] = pa.repeat(pa.scalar(constant, pa.string()), length)
    for name in plan.required:
        if name not in out or out[name].null_count:
            return None
    if plan.coordinates and not _coordinates_ok(out):
        return None
    return out, naive


def _evaluate(node: FastNode, env: dict[str, _Value], table: Any, plan: FastPlan) -> _Value:
    """The values of ``node`` for the block, as the row path's converter or step computes them per row."""
    if node.op == "cell":
        return _cell(table.column(f"c{node.index}").combine_chunks(), node, plan)
    refs: list[Any] = [env[r] if r else None for r in node.refs]
    if node.op == "const":
        return _Value("text", pa.repeat(pa.scalar(node.text or None, pa.string()), table.num_rows))
    if node.op == "column" or (node.op == "first_of" and len(refs) == 1):
        alias: _Value = refs[0]
        return alias
    if node.op == "first_of":
        return _first_of(refs)
    if node.op == "join":
        return _join(refs, node.text)
    if node.op == "parts":
        return _parts(refs, table.num_rows)
    if node.op == "add_seconds":
        return _add_seconds(*refs)
    raise _RowPath(node.op)  # pragma: no cover - the plan holds only the ops above


def _cell(values: Any, node: FastNode, plan: FastPlan) -> _Value:
    """A converted column: strings exactly as the row path strips them, finite numbers, strict date-times."""
    kind = KIND_OF[node.type]
    if kind == "local":
        return _local(values, plan.dayfirst)
    if kind == "text":
        if not _trimmed(values):
            raise _RowPath("blank at the edge of a text")
        return _Value(kind, values)
    if kind == "float" and values.null_count < len(values) and not pc.all(pc.is_finite(values)).as_py():
        raise _RowPath("not finite")
    if node.scale is not None:
        return _Value("float", pc.multiply(values.cast(pa.float64()), pa.scalar(node.scale)))
    return _Value(kind, values)


def _first_of(refs: list[_Value]) -> _Value:
    """The first present value of several of one kind (the row path skips None and empty text)."""
    kind = refs[0].kind
    if kind in ("local", "utc"):
        seconds, valid = refs[-1].seconds, refs[-1].valid
        for ref in reversed(refs[:-1]):
            seconds = np.where(ref.valid, ref.seconds, seconds)
            valid = ref.valid | valid
        return _Value(kind, seconds=seconds, valid=valid)
    return _Value(kind, pc.coalesce(*(r.array for r in refs)))


def _join(refs: list[_Value], sep: str) -> _Value:
    """Present texts joined with ``sep``, None when none is present."""
    joined = refs[0].array
    for ref in refs[1:]:
        joined = pc.coalesce(pc.binary_join_element_wise(joined, ref.array, sep), joined, ref.array)
    return _Value("text", joined)


def _parts(refs: list[_Value], length: int) -> _Value:
    """Wall-clock seconds of YEAR/MONTH/DAY[/HOUR/MINUTE/SECOND] integer columns (None if a date part is)."""
    ints = [_ints(r, length) for r in refs]
    valid = np.ones(length, dtype=bool)
    for ref in refs[:3]:
        if ref.array is not None and ref.array.null_count:
            valid &= np.asarray(ref.array.is_valid())
    local = _civil_seconds(*(v[valid] for v in ints))
    seconds = np.zeros(length, dtype=np.int64)
    seconds[valid] = local
    return _Value("local", seconds=seconds, valid=valid)


def _ints(ref: _Value | None, length: int) -> np.ndarray:
    """An int column as numpy (missing → 0, as ``env.get(ref) or 0``); a float one must be whole numbers."""
    if ref is None or ref.array is None:
        return np.zeros(length, dtype=np.int64)
    if ref.kind != "int":
        raise _RowPath("parts of a date that are not integers")
    values: np.ndarray = ref.array.fill_null(0).to_numpy(zero_copy_only=False)
    return values.astype(np.int64, copy=False)


def _add_seconds(base: _Value, seconds: _Value) -> _Value:
    """``base + timedelta(seconds=…)``: whole seconds only (fractions round in ways numpy would not copy)."""
    if base.kind not in ("local", "utc") or seconds.kind not in ("int", "float"):
        raise _RowPath("add_seconds of these kinds")
    amounts = seconds.array.fill_null(0).to_numpy(zero_copy_only=False)
    valid = base.valid & np.asarray(seconds.array.is_valid())
    present = amounts[valid].astype(np.float64)
    if len(present) and (np.abs(present).max() > 1e11 or np.any(present != np.floor(present))):
        raise _RowPath("fractional or huge seconds")  # huge: no int64 overflow, the range check decides
    total = base.seconds + amounts.astype(np.int64)
    return _Value(base.kind, seconds=np.where(valid, total, 0), valid=valid)


def _finish(value: _Value, finish: str, tz: tzinfo) -> _Value:
    """The canonical conversion of a field (the row path's ``_finish_step``), or _RowPath."""
    if finish == "time":
        if value.kind == "local":
            utc = np.zeros_like(value.seconds)
            if value.valid.any():
                converted = _to_utc(value.seconds[value.valid], tz)
                if converted is None:
                    raise _RowPath("an hour next to a clock change or a sentinel")
                utc[value.valid] = converted
            return _Value("utc", seconds=utc, valid=value.valid)
        if value.kind == "utc":
            present = value.seconds[value.valid]
            if len(present) and (present.min() < _FIRST_SECOND or present.max() >= _LAST_SECOND):
                raise _RowPath("out of range or near a sentinel")
            return value
    elif finish == "float" and value.kind in ("int", "float"):
        return _Value("float", value.array.cast(pa.float64()))
    elif finish == "int" and value.kind == "int":
        return value
    elif finish == "int" and value.kind == "float":
        whole = pc.equal(pc.floor(value.array), value.array)
        if value.array.null_count < len(value.array) and not pc.all(whole).as_py():
            raise _RowPath("a fraction in an integer field")
        return _Value("int", value.array.cast(pa.int64()))
    elif finish == "text" and value.kind == "text":
        return value
    raise _RowPath(f"{value.kind} as {finish}")


def _arrow(value: _Value) -> Any:
    """The canonical Arrow array of a finished value."""
    if value.kind != "utc":
        return value.array
    micros = value.seconds * 1_000_000
    mask = None if value.valid.all() else ~value.valid
    return pa.array(micros, pa.int64(), mask=mask).cast(pa.timestamp("us", tz="UTC"))


def _plain(block: bytes) -> bool:
    """No quote (a quoted value may hold a delimiter or a line end) and no NUL (the csv module refuses it)."""
    return b'"' not in block and b"\x00" not in block


def _edge_bytes() -> tuple[np.ndarray, np.ndarray]:
    """Which bytes can open, and which can close, the UTF-8 form of a character ``str.strip()`` removes."""
    opening, closing = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    for code in range(0x3001):  # the last whitespace character is U+3000
        if chr(code).isspace():
            encoded = chr(code).encode("utf-8")
            opening[encoded[0]] = closing[encoded[-1]] = True
    return opening, closing


_OPENING, _CLOSING = _edge_bytes()
_EXACT_LIMIT = 10_000


def _trimmed(values: Any) -> bool:
    """No value starts or ends with a blank (the row path strips them, the fast path would not).

    A value whose first or last byte could belong to a blank is a suspect; suspects are checked with
    ``str.strip`` once per distinct text (a category written ``État civil`` on every row costs one check).
    """
    if len(values) == values.null_count:
        return True
    offsets, data = string_buffers(values)
    if len(data) == 0:
        return True  # only empty texts
    starts, ends = offsets[:-1], offsets[1:]
    first = data.take(starts, mode="clip")  # an empty value may start at the end of the data
    last = data.take(ends - 1, mode="clip")
    suspects = np.flatnonzero((_OPENING[first] | _CLOSING[last]) & (ends > starts))
    if len(suspects) == 0:
        return True
    distinct = pc.unique(values.take(pa.array(suspects)))
    if len(distinct) > _EXACT_LIMIT:
        return False
    return all(text == text.strip() for text in distinct.to_pylist())


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


def _local(values: Any, dayfirst: bool) -> _Value:
    """Wall-clock seconds of 19-character naive datetimes (nulls kept), or _RowPath."""
    valid = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), dtype=bool)
    present = values.drop_null() if values.null_count else values
    seconds = np.zeros(len(values), dtype=np.int64)
    if len(present) == 0:
        return _Value("local", seconds=seconds, valid=valid)
    offsets, data = string_buffers(present)
    if not np.all(np.diff(offsets) == 19):
        raise _RowPath("not a 19-character date-time")
    start = int(offsets[0])
    cells = data[start:start + 19 * len(present)].reshape(len(present), 19)
    local = _local_seconds(cells, dayfirst)
    if local is None:
        raise _RowPath("not a valid date-time")
    if values.null_count:
        seconds[valid] = local
    else:
        seconds = local
    return _Value("local", seconds=seconds, valid=valid)


_SLASHED = np.frombuffer(b"00/00/0000 00:00:00", np.uint8)
_ISO = np.frombuffer(b"0000-00-00 00:00:00", np.uint8)
_YEARS_TABULATED = 100  # a wider span of years in one block is computed by arithmetic instead


def _limits(template: np.ndarray) -> np.ndarray:
    """The largest ``byte ^ template`` allowed at each place: 9 for a digit (``b ^ 0x30 <= 9`` exactly when
    ``b`` is one of ``0``…``9``), 0 for a separator (that byte and no other), 255 for the date-time's middle
    (checked on its own: ISO date-times may join the date and the time with a space or a ``T``)."""
    limits = np.where(template == ord("0"), 9, 0).astype(np.uint8)
    limits[10] = 255
    return limits


_SLASHED_LIMITS, _ISO_LIMITS = _limits(_SLASHED), _limits(_ISO)


def _local_seconds(cells: np.ndarray, dayfirst: bool) -> np.ndarray | None:
    """Seconds since 1970 (wall clock) of ``dd/mm/yyyy HH:MM:SS`` or ``yyyy-mm-dd HH:MM:SS`` rows.

    Every byte is checked against the shape at once (XOR with the template gives each digit's value and
    zero for a matching separator), fields are read two digits at a time, and a date becomes a day number
    by one lookup in a table of every (year, month, day) of the block's years, invalid ones marked: 0.12 s
    per million date-times with per-field gathers, arithmetic and range checks, 0.04 s so."""
    first = cells[0]
    if first[2] == ord("/"):
        template, limits, day_at, month_at, year_at = _SLASHED, _SLASHED_LIMITS, 0, 3, 6
    elif first[4] == ord("-"):
        template, limits, day_at, month_at, year_at = _ISO, _ISO_LIMITS, 8, 5, 0
    else:
        return None
    n = len(cells)
    flat = np.bitwise_xor(cells.reshape(-1), tiled(template, n))  # flat: a row-wise broadcast is 6× slower
    if np.greater(flat, tiled(limits, n)).any():
        return None
    values = flat.reshape(n, 19)  # the digits' values, zero for separators where the shape holds
    middle = cells[:, 10]
    if not (np.all(middle == ord(" ")) or (year_at == 0 and np.all((middle == ord(" ")) | (middle == ord("T"))))):
        return None

    def two(at: int) -> np.ndarray:  # a two-digit number
        number: np.ndarray = values[:, at].astype(np.int32) * 10 + values[:, at + 1]
        return number

    day, month = two(day_at), two(month_at)
    if year_at == 6 and not dayfirst:
        day, month = month, day
    year = two(year_at) * 100 + two(year_at + 2)
    hour, minute, second = two(11), two(14), two(17)
    low, high = int(year.min()), int(year.max())
    if high - low >= _YEARS_TABULATED:
        try:
            return _civil_seconds(year, month, day, hour, minute, second)
        except _RowPath:
            return None
    if low < 1 or hour.max() > 23 or minute.max() > 59 or second.max() > 59:
        return None
    days = _day_numbers(low, high)[(year - low) * 10000 + month * 100 + day]
    if days.min() == _NO_DAY:
        return None  # a month 13, a day 0, the 31st of April, the 29th of February of a common year
    local: np.ndarray = days * 86400 + (hour * 3600 + minute * 60 + second)
    return local


_NO_DAY = np.iinfo(np.int64).min


@lru_cache(maxsize=64)
def _day_numbers(low: int, high: int) -> np.ndarray:
    """Days since 1970-01-01 at ``(year - low) * 10000 + month * 100 + day`` for every two-digit month and
    day of years ``low..high``; ``_NO_DAY`` where no such date exists (as ``datetime(...)`` would raise)."""
    year, month, day = (grid.ravel() for grid in np.meshgrid(np.arange(low, high + 1, dtype=np.int64),
                                                             np.arange(100, dtype=np.int64),
                                                             np.arange(100, dtype=np.int64), indexing="ij"))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    valid = (month >= 1) & (month <= 12) & (day >= 1)
    valid &= day <= _DAYS[np.where(valid, month, 0)] + (leap & (month == 2))
    numbers = np.full(len(year), _NO_DAY, dtype=np.int64)
    numbers[valid] = _days_from_civil(year[valid], month[valid], day[valid])
    numbers.flags.writeable = False
    return numbers


def _civil_seconds(year: np.ndarray, month: np.ndarray, day: np.ndarray, hour: np.ndarray,
                   minute: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Seconds since 1970 (wall clock) of date and time parts; _RowPath if one is out of its range
    (``datetime(...)`` would raise, so the row path rejects the row)."""
    if len(year) == 0:
        return np.zeros(0, dtype=np.int64)
    if (month.min() < 1 or month.max() > 12 or day.min() < 1 or hour.min() < 0 or hour.max() > 23
            or minute.min() < 0 or minute.max() > 59 or second.min() < 0 or second.max() > 59
            or year.min() < 1 or year.max() > 9999):
        raise _RowPath("a date or time part out of range")
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    if np.any(day > _DAYS[month] + (leap & (month == 2))):
        raise _RowPath("no such day")
    days = _days_from_civil(year.astype(np.int64), month.astype(np.int64), day.astype(np.int64))
    clock = hour.astype(np.int64) * 3600 + minute.astype(np.int64) * 60 + second.astype(np.int64)
    local: np.ndarray = days * 86400 + clock
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
    low, high = int(hours.min()), int(hours.max())
    if high - low >= 1_000_000:
        return None  # a block spanning over a century: let the row path decide
    shifts = _SHIFTS.setdefault(tz, _HourShifts(tz)).of(hours, low, high)
    if shifts is None:
        return None
    result: np.ndarray = local - shifts
    return result


_UNKNOWN = np.iinfo(np.int64).max  # an hour not computed yet
_IRREGULAR = np.iinfo(np.int64).min  # an hour the fast path leaves to the row path (``_hour_shift`` is None)
_SHIFT_SPAN = 1 << 20  # hours a zone's table may cover (8 MiB; 120 years)


class _HourShifts:
    """``_hour_shift`` of every hour met so far in one zone, as a numpy table: one Python call per distinct
    hour of the whole file, then one lookup per block (a year of fixes spread over every block cost 8,760
    Python calls per block, under the GIL: 0.9 s of the 10 M-fix load). Shared by the converting threads;
    a table replaced while another thread fills the old one only loses entries it will compute again."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.low = 0
        self.table = np.zeros(0, dtype=np.int64)
        self.lock = threading.Lock()

    def of(self, hours: np.ndarray, low: int, high: int) -> np.ndarray | None:
        """The shift of each of ``hours`` (within ``low..high``), or None if one is irregular."""
        with self.lock:
            start, table = self._covering(low, high)
        if table is None:
            return _shifts_of_present(hours, low, high, self.tz)
        shifts = table[hours - start]
        unknown = shifts == _UNKNOWN
        if unknown.any():
            for hour in np.unique(hours[unknown]).tolist():
                shift = _hour_shift(hour, self.tz)
                table[hour - start] = _IRREGULAR if shift is None else shift
            shifts = table[hours - start]
        if (shifts == _IRREGULAR).any():
            return None
        found: np.ndarray = shifts
        return found

    def _covering(self, low: int, high: int) -> tuple[int, np.ndarray | None]:
        """The table grown (filled with ``_UNKNOWN``) to cover ``low..high``; None past ``_SHIFT_SPAN``."""
        table, start = self.table, self.low
        if len(table) and start <= low and high < start + len(table):
            return start, table
        first = min(low, start) if len(table) else low
        last = max(high, start + len(table) - 1) if len(table) else high
        if last - first >= _SHIFT_SPAN:
            return start, None
        grown = np.full(last - first + 1, _UNKNOWN, dtype=np.int64)
        grown[start - first:start - first + len(table)] = table
        self.low, self.table = first, grown
        return first, grown


_SHIFTS: dict[tzinfo, _HourShifts] = {}


def _shifts_of_present(hours: np.ndarray, low: int, high: int, tz: tzinfo) -> np.ndarray | None:
    """The shift of each of ``hours``, computed for the hours present (blocks whose hours are far apart)."""
    span = high - low + 1
    present = np.flatnonzero(np.bincount(hours - low, minlength=span))
    table = np.zeros(span, dtype=np.int64)
    for hour in present.tolist():
        shift = _hour_shift(low + hour, tz)
        if shift is None:
            return None
        table[hour] = shift
    shifts: np.ndarray = table[hours - low]
    return shifts


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


