"""The ``events`` view (``views/10_events.sql``) in pyarrow and numpy: every record placed in the declared schedule.

The SQL is the definition (``tests/unit/test_metric_placement.py`` holds this module to it); in DuckDB it cost
~0.7 s of CPU per million rows, most of it converting each time to the policy's zone and joining four lookups.
Here the per-value work is arithmetic on integer microseconds: text becomes dictionary codes once, each
(tool, agent) pair is looked up in the identity map once, the zone's offset is computed once per distinct UTC
hour, and the declared schedule is a dense ``[group, holiday, weekday, minute]`` cube of flags indexed by those
codes; each boolean column and the slot are then one lookup by those flags. Measured on one million positions,
one thread: about 0.1 s of CPU against 0.34 s for the SQL.

The zone offsets come from DuckDB itself (``timezone()``, the SQL's function): pyarrow's time-zone database
disagrees with DuckDB's (ICU) after 2037 and for zones whose rules changed lately (Africa/Casablanca).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from auditor.metrics import scratch
from auditor.metrics.sequence import DayOrder

HOUR = 3_600_000_000
DAY = 86_400_000_000
MINUTES_PER_DAY = 1440
#: Up to this many UTC hours between the first and last time (120 years), the offsets are a table over those hours
#: (computed for the hours present); beyond, the distinct hours are sorted.
DENSE_HOURS = 1 << 20
#: Above this many (tool, agent) pairs of codes, the identity lookup is a sort instead of a dense table.
DENSE_PAIRS = 1 << 24
#: ``slot`` by priority: holiday, rest day, break, outside hours, shift.
SLOTS = ("holiday", "rest_day", "break", "off_hours", "shift")
WORKDAY, IN_HOURS, IN_BREAK, HOLIDAY = 1, 2, 4, 8


@dataclass(frozen=True)
class Kind:
    """How the SQL reads one canonical kind: its time (first non-null of ``times``), its end, and whether rows
    without an agent are dropped."""

    name: str
    times: tuple[str, ...]
    end: str | None = None
    duration: str | None = None  # seconds: the end is the time plus this many (rounded) microseconds
    needs_agent: bool = False


#: In the SQL's UNION ALL order.
KINDS = (
    Kind("appointments", ("start",), end="end"),
    Kind("queue_tickets", ("called_at", "served_start", "issued_at"), end="served_end", needs_agent=True),
    Kind("positions", ("time",)),
    Kind("web_requests", ("time",), needs_agent=True),
    Kind("clock_events", ("time",)),
    Kind("care_acts", ("start", "recorded_at", "planned_start"), end="end"),
    Kind("case_actions", ("time",), duration="duration_s"),
    Kind("activity_events", ("time",), duration="duration_s"),
)

_TEXT = pa.string()
_UTC = pa.timestamp("us", tz="UTC")


@dataclass
class Raw:
    """The records of every kind, one array per column, in the SQL's order; text as codes into ``tools`` and
    ``agents`` (-1 for null)."""

    kind: np.ndarray
    kinds: list[str]
    tool: np.ndarray
    tools: pa.Array[Any]
    agent: np.ndarray
    agents: pa.Array[Any]
    t: np.ndarray
    busy: np.ndarray  # ``t`` itself when no record ends after its time
    has_later: bool

    def take(self, rows: np.ndarray) -> Raw:
        busy = self.busy[rows] if self.has_later else self.t[rows]
        return Raw(self.kind[rows], self.kinds, self.tool[rows], self.tools, self.agent[rows], self.agents,
                   self.t[rows], busy, self.has_later)


def placed_events(tables: Mapping[str, pa.Table]) -> tuple[pa.Table, DayOrder]:
    """``SELECT * FROM events`` (``views/10_events.sql``) on ``tables``: the eight canonical kinds, and
    ``policy_params``, ``identities``, ``policy_holidays``, ``minute_slots`` and ``delegation_minutes`` as the
    runner makes them. The same columns, types and rows, in the SQL's natural order (kinds in UNION ALL order,
    rows in table order); the text columns (kind, tool, agent, person, grp, slot) are dictionary-encoded
    (``dictionary<int32, string>``, one dictionary per column, no repeated value). And the events' ``DayOrder``
    from the arrays they were made of, for ``sequence.add_previous`` (which would otherwise read them back)."""
    params = tables["policy_params"]
    if params.num_rows != 1:
        raise ValueError("policy_params must have exactly one row")
    tz = str(params.column("tz")[0].as_py())
    default_group = params.column("default_group")[0].as_py()
    raw, person, persons, grp, groups = _who(_raw(tables), tables["identities"], default_group)
    when = _when(raw, tz)
    isodow, day_code = _days(when.day, tables["policy_holidays"])
    cube = _schedule(tables["minute_slots"], groups).reshape(-1)
    cells = grp if len(cube) < 2**31 else grp.astype(np.int64)  # int32 arithmetic unless it could overflow
    flags = cube[(cells * 14 + day_code) * MINUTES_PER_DAY + when.floor_minute]
    delegation = _delegation(tables["delegation_minutes"], raw.agent, raw.agents, person, persons, isodow,
                             when.day, when.floor_minute)
    keys = DayOrder.of_codes([(raw.kind, len(raw.kinds)), (raw.tool + 1, len(raw.tools) + 1),
                              (raw.agent + 1, len(raw.agents) + 1)], when.day, raw.t, raw.busy, when.busy_minute)
    return pa.table({
        "kind": _dictionary(raw.kind, pa.array(raw.kinds, _TEXT), nullable=False),
        "tool": _dictionary(raw.tool, raw.tools),
        "agent": _dictionary(raw.agent, raw.agents),
        "person": _dictionary(person, persons),
        "t": pa.array(raw.t, _UTC),
        "busy_until": pa.array(raw.busy, _UTC),
        "local_t": pa.array(when.local_t, pa.timestamp("us")),
        "local_day": pa.array(when.day.astype(np.int32), pa.date32()),
        "isodow": pa.array(isodow, pa.int64()),
        "minute": pa.array(when.minute, pa.float64()),
        "busy_minute": pa.array(when.busy_minute, pa.float64()),
        "grp": _dictionary(grp, groups, nullable=False),
        "is_weekend": pa.array(isodow >= 6),
        "is_holiday": pa.array(_FLAG_TABLES["is_holiday"][flags]),
        "is_rest_day": pa.array(_FLAG_TABLES["is_rest_day"][flags]),
        "in_hours": pa.array(_FLAG_TABLES["in_hours"][flags]),
        "in_break": pa.array(_FLAG_TABLES["in_break"][flags]),
        "in_delegation": pa.array(delegation),
        "slot": _dictionary(_FLAG_TABLES["slot"][flags], pa.array(SLOTS, _TEXT), nullable=False),
    }), keys


def _flag_tables() -> dict[str, np.ndarray]:
    """Each boolean column, and the slot's code, for each combination of the bits workday (1), in hours (2),
    in break (4) and holiday (8): one lookup per record and column."""
    bits = np.arange(16, dtype=np.uint8)
    holiday, rest = (bits & HOLIDAY) != 0, (bits & WORKDAY) == 0
    hours, brk = (bits & IN_HOURS) != 0, (bits & IN_BREAK) != 0
    slot = np.select([holiday, rest, brk, ~hours], [0, 1, 2, 3], 4).astype(np.int32)
    return {"is_holiday": holiday, "is_rest_day": rest, "in_hours": hours, "in_break": brk, "slot": slot}


_FLAG_TABLES = _flag_tables()


# --- the records -----------------------------------------------------------------------------------------------


def _raw(tables: Mapping[str, pa.Table]) -> Raw:
    """The ``raw`` CTE with ``r.t IS NOT NULL`` applied and ``busy_until`` computed (no copy of a kind whose rows
    are all kept and that has no end)."""
    kept: list[np.ndarray] = []
    times: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    tools: list[list[pa.Array[Any]]] = []
    agents: list[list[pa.Array[Any]]] = []
    names: list[str] = []
    has_later = False
    for kind in KINDS:
        table = tables[kind.name]
        t, keep = _first_time(table, kind.times)
        if kind.needs_agent:
            keep = keep & table.column("agent").is_valid().to_numpy(zero_copy_only=False)
        kept.append(keep)
        tools.append(_text(table.column("tool")))
        agents.append(_text(table.column("agent")))
        count = int(np.count_nonzero(keep))
        if count == 0:
            continue
        busy = _busy(table, kind, t)
        has_later = has_later or busy is not t
        if count < len(keep):
            t, busy = t[keep], busy[keep]
        times.append(t)
        ends.append(busy)
        codes.append(np.full(count, len(names), dtype=np.int32))
        names.append(kind.name)
    keep_all = np.concatenate(kept) if kept else np.zeros(0, dtype=bool)
    tool, tool_values = _codes(tools, keep_all)
    agent, agent_values = _codes(agents, keep_all)
    t_all = _joined_arrays(times, np.int64)
    return Raw(_joined_arrays(codes, np.int32), names, tool, tool_values, agent, agent_values, t_all,
               _joined_arrays(ends, np.int64) if has_later else t_all, has_later)


def _joined_arrays(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _busy(table: pa.Table, kind: Kind, t: np.ndarray) -> np.ndarray:
    """``greatest(t, coalesce(t_end, t))``: ``t`` itself (the same array) when no end is later."""
    end, valid = _end(table, kind, t)
    if end is None:
        return t
    later = valid & (end > t)
    return np.where(later, end, t) if later.any() else t


def _first_time(table: pa.Table, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``coalesce(names...)`` as microseconds since the epoch (0 where null) and where it is not null."""
    values, valid = _micros(table.column(names[0]))
    for name in names[1:]:
        if valid.all():
            break
        more, more_valid = _micros(table.column(name))
        values = np.where(valid, values, more)
        valid = valid | more_valid
    return values, valid


def _end(table: pa.Table, kind: Kind, t: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The act's end in microseconds, and where it is known."""
    if kind.end is not None:
        return _micros(table.column(kind.end))
    if kind.duration is None:
        return None, np.zeros(0, dtype=bool)
    seconds, valid = _numbers(table.column(kind.duration))
    return t + _bigint(seconds * 1e6, valid), valid


def _micros(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, np.ndarray]:
    """A timestamp column as int64 microseconds (0 where null) and its validity."""
    if column.type != _UTC:
        column = column.cast(pa.timestamp("us", tz=getattr(column.type, "tz", None)))
    return _filled(_array(column).view(pa.int64()), 0, np.int64)


def _numbers(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, np.ndarray]:
    return _filled(_array(column).cast(pa.float64()), 0.0, np.float64)


def _array(column: Any) -> pa.Array[Any]:
    """A chunked column as one array (without a copy when it has one chunk)."""
    if isinstance(column, pa.ChunkedArray) and column.num_chunks == 1:
        return cast("pa.Array[Any]", column.chunk(0))
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column  # type: ignore[no-any-return]


def _filled(values: pa.Array[Any], fill: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    if values.null_count == 0:
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype), np.ones(len(values), dtype=bool)
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=dtype), valid


def _bigint(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """DuckDB's ``CAST(x AS BIGINT)`` of a double: rounded to nearest, ties to even (C's ``nearbyint``; a DECIMAL
    literal's cast rounds ties away from zero, a DOUBLE's does not); an error outside BIGINT's range, as in DuckDB."""
    rounded = np.rint(np.where(valid, values, 0.0))
    if not np.all(np.isfinite(rounded)) or np.any(np.abs(rounded) >= 2.0**63):
        raise ValueError("a duration is out of the range of a BIGINT of microseconds")
    return rounded.astype(np.int64)


def _text(column: pa.ChunkedArray[Any]) -> list[pa.Array[Any]]:
    """A text column's chunks: plain text, or dictionary-encoded as a bucket's columns are."""
    if column.type != _TEXT and not pa.types.is_dictionary(column.type):
        column = column.cast(_TEXT)
    return list(column.chunks)


def _codes(chunks: list[list[pa.Array[Any]]], keep: np.ndarray) -> tuple[np.ndarray, pa.Array[Any]]:
    """One dictionary for a text column of every kind: the kept rows' codes (-1 for null) and the values, in the
    order they first appear."""
    flat = [chunk for kind in chunks for chunk in kind]
    if not flat:
        return np.zeros(0, dtype=np.int32), pa.array([], _TEXT)
    if any(pa.types.is_dictionary(chunk.type) for chunk in flat):
        codes, values = _merged(flat)
    else:
        encoded = pc.dictionary_encode(pa.chunked_array(flat, _TEXT))
        parts = [cast("pa.DictionaryArray[Any, Any]", chunk) for chunk in encoded.chunks]
        values = parts[-1].dictionary if parts else pa.array([], _TEXT)
        codes, _ = _filled(pa.chunked_array([chunk.indices for chunk in parts], pa.int32()).combine_chunks(), -1,
                           np.int32)
    return (codes if keep.all() else codes[keep]), values


def _merged(chunks: list[pa.Array[Any]]) -> tuple[np.ndarray, pa.Array[Any]]:
    """Codes into one dictionary for chunks that are dictionary-encoded or plain: each chunk's distinct values are
    looked up once, its rows through its indices. The values come in the order they first appear, as the plain
    way gives them, since each chunk's dictionary lists its values so (``runner.encoded_texts`` makes them so)."""
    encoded = [cast("pa.DictionaryArray[Any, Any]", chunk if pa.types.is_dictionary(chunk.type)
                    else pc.dictionary_encode(chunk)) for chunk in chunks]
    dictionaries = [chunk.dictionary.cast(_TEXT) for chunk in encoded]
    every = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(pa.chunked_array(dictionaries, _TEXT))
                 .combine_chunks())
    global_codes, _ = _filled(every.indices, -1, np.int32)
    codes, start = [], 0
    for chunk, dictionary in zip(encoded, dictionaries, strict=True):
        lookup = np.append(global_codes[start:start + len(dictionary)], np.int32(-1))
        codes.append(lookup[_filled(chunk.indices, len(dictionary), np.int64)[0]])
        start += len(dictionary)
    return np.concatenate(codes), every.dictionary


def _dictionary(codes: np.ndarray, values: pa.Array[Any], nullable: bool = True) -> pa.DictionaryArray[Any, Any]:
    """Codes (-1 for null) as a dictionary array."""
    mask = codes < 0 if nullable and len(codes) and int(codes.min()) < 0 else None
    indices = pa.array(codes.astype(np.int32, copy=False), pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, values)


# --- who: person and group ---------------------------------------------------------------------------------------


def _who(raw: Raw, identities: pa.Table, default_group: str) -> tuple[Raw, np.ndarray, pa.Array[Any], np.ndarray,
                                                                        pa.Array[Any]]:
    """The records (repeated where the identity join repeats them), ``coalesce(i.person, r.agent)`` and
    ``coalesce(i.grp, default_group)`` as codes into their own values. Identities join on (agent, tool): each
    distinct pair of codes is looked up once, then each record costs one lookup per column."""
    names = _Names(raw, identities, default_group)
    tool = _lookup(identities.column("tool"), raw.tools)
    agent = _lookup(identities.column("agent"), raw.agents)
    found = np.nonzero((tool >= 0) & (agent >= 0))[0]
    width = len(raw.agents) + 1
    size = (len(raw.tools) + 1) * width
    listed = (tool[found] + 1) * width + (agent[found] + 1)
    if size <= DENSE_PAIRS and len(np.unique(listed)) == len(listed):
        pair = (raw.tool + 1) * width + (raw.agent + 1)  # int32: size is small
        pair_person = names.agent_person[np.arange(size) % width]
        pair_group = np.full(size, names.default, dtype=np.int32)
        pair_person[listed] = names.ident_person[found]
        pair_group[listed] = names.ident_group[found]
        return raw, pair_person[pair], names.persons, pair_group[pair], names.groups
    return _joined(raw, names, tool, agent, width)


class _Names:
    """The person and group dictionaries; each identity row's and each identifier's person and group in them."""

    def __init__(self, raw: Raw, identities: pa.Table, default_group: str) -> None:
        people = identities.column("person").cast(_TEXT)
        persons = pc.unique(pa.chunked_array([raw.agents, *people.chunks], _TEXT).combine_chunks())
        self.persons = persons.filter(persons.is_valid())
        grps = identities.column("grp").cast(_TEXT)
        groups = pc.unique(pa.chunked_array([pa.array([default_group], _TEXT), *grps.chunks], _TEXT).combine_chunks())
        self.groups = groups.filter(groups.is_valid())
        self.default = int(_lookup(pa.chunked_array([pa.array([default_group], _TEXT)]), self.groups)[0])
        # by agent code + 1 (0: a null agent, whose person is null)
        own = _lookup(pa.chunked_array([raw.agents], _TEXT), self.persons).astype(np.int32)
        self.agent_person = np.concatenate([np.full(1, -1, dtype=np.int32), own])
        agent = _lookup(identities.column("agent"), raw.agents)
        person = _lookup(people, self.persons).astype(np.int32)
        self.ident_person = np.where(person >= 0, person, self.agent_person[agent + 1])
        group = _lookup(grps, self.groups).astype(np.int32)
        self.ident_group = np.where(group >= 0, group, self.default).astype(np.int32)


def _joined(raw: Raw, names: _Names, tool: np.ndarray, agent: np.ndarray,
            width: int) -> tuple[Raw, np.ndarray, pa.Array[Any], np.ndarray, pa.Array[Any]]:
    """The left join on identities by sorting, when an identifier is in them twice (declared for two persons):
    each record once per matching row, or once unmatched."""
    keys = np.where((tool >= 0) & (agent >= 0), (tool + 1) * width + (agent + 1), -1)
    pair = np.where((raw.tool >= 0) & (raw.agent >= 0), (raw.tool.astype(np.int64) + 1) * width + raw.agent + 1, -2)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    low = np.searchsorted(ordered, pair, side="left")
    count = np.searchsorted(ordered, pair, side="right") - low
    repeat = np.maximum(count, 1)
    rows = np.repeat(np.arange(len(pair)), repeat)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    ident = np.where(count[rows] > 0, order[np.minimum(low[rows] + step, max(len(order) - 1, 0))], -1)
    raw = raw.take(rows)
    matched = ident >= 0
    person = np.where(matched, names.ident_person[np.maximum(ident, 0)] if len(order) else -1,
                      names.agent_person[raw.agent + 1]).astype(np.int32)
    group = np.where(matched, names.ident_group[np.maximum(ident, 0)] if len(order) else -1,
                     names.default).astype(np.int32)
    return raw, person, names.persons, group, names.groups


def _lookup(column: pa.ChunkedArray[Any], values: pa.Array[Any]) -> np.ndarray:
    """The position of each value of ``column`` in ``values`` (-1 if absent or null)."""
    found = pc.index_in(column.cast(_TEXT), value_set=values)
    return _filled(_array(found), -1, np.int64)[0]


# --- when: local time ------------------------------------------------------------------------------------------


@dataclass
class When:
    """The local times of the records: wall clock, day (days since 1970-01-01), minutes after midnight."""

    local_t: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    floor_minute: np.ndarray
    busy_minute: np.ndarray


def _when(raw: Raw, tz: str) -> When:
    """``local_t``, ``local_day``, ``minute`` and ``busy_minute`` as the SQL computes them (``local_busy_until`` is
    ``timezone(tz, busy_until)``: busy_until is t_end exactly when t_end > t); a record without a later end has its
    ``busy_minute`` equal to its ``minute``, so only the others are computed twice."""
    t, busy = raw.t, raw.busy
    local_t, offsets = _local(t, tz)
    day = local_t // DAY
    since_midnight = day * DAY
    np.subtract(local_t, since_midnight, out=since_midnight)
    minute = since_midnight / 1e6
    minute /= 60.0
    later = np.nonzero(busy != t)[0] if raw.has_later else np.zeros(0, dtype=np.int64)
    busy_minute = minute
    if len(later):
        busy_minute = minute.copy()
        busy_minute[later] = _epoch(_local(busy[later], tz, offsets)[0] - day[later] * DAY) / 60.0
    return When(local_t, day, minute, np.floor(minute).astype(np.int32), busy_minute)


@dataclass
class Offsets:
    """The zone's offset of UTC hours and whether it changes within the hour: for each hour from ``low`` (those
    ``known``), or for each hour of ``hours`` when they span too long a time for a table."""

    low: int
    hours: np.ndarray | None
    offset: np.ndarray
    changing: np.ndarray
    known: np.ndarray | None


def local_times(t: np.ndarray, tz: str) -> np.ndarray:
    """``timezone(tz, t)`` of UTC microseconds as DuckDB computes it (local wall-clock microseconds): one
    conversion per distinct UTC hour, value by value only in an hour where the offset changes."""
    return _local(t, tz)[0]


def _local(t: np.ndarray, tz: str, offsets: Offsets | None = None) -> tuple[np.ndarray, Offsets]:
    """``timezone(tz, t)``: the offset is computed once per distinct UTC hour; rows in an hour where it changes
    (the start and the end of the hour disagree) are converted one by one."""
    if len(t) == 0:
        return t.copy(), offsets or Offsets(0, None, np.zeros(0, np.int64), np.zeros(0, bool), None)
    hours = t // HOUR
    if offsets is not None:
        index = _hour_index(hours, offsets)
        if index is not None:
            return _shifted(t, index, offsets, tz), offsets
    low, high = int(hours.min()), int(hours.max())
    if high - low >= DENSE_HOURS:
        grid = np.unique(hours)
        offsets = Offsets(low, grid, *hour_offsets(grid, tz), None)
        return _shifted(t, np.searchsorted(grid, hours), offsets, tz), offsets
    index = hours
    index -= low
    known = np.zeros(high - low + 1, dtype=bool)
    known[index] = True
    present = np.nonzero(known)[0]
    offset = np.zeros(len(known), dtype=np.int64)
    changing = np.zeros(len(known), dtype=bool)
    offset[present], changing[present] = hour_offsets(present + low, tz)
    offsets = Offsets(low, None, offset, changing, known)
    return _shifted(t, index, offsets, tz), offsets


def hour_offsets(hours: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """The offset (microseconds) of ``tz`` at the start of each UTC hour (hours since the epoch), and whether the
    one at its end differs: DuckDB's own ``timezone()``, once per hour."""
    starts = hours * HOUR
    both = _timezone(np.concatenate([starts, starts + (HOUR - 1)]), tz)
    offset = both[: len(hours)] - starts
    return offset, offset != both[len(hours):] - (starts + (HOUR - 1))


def _hour_index(hours: np.ndarray, offsets: Offsets) -> np.ndarray | None:
    """Where each hour is in ``offsets`` (``hours`` reused), or None if one is not there."""
    if offsets.hours is None:
        assert offsets.known is not None
        if int(hours.min()) < offsets.low or int(hours.max()) >= offsets.low + len(offsets.offset):
            return None
        index = hours - offsets.low
        return index if offsets.known[index].all() else None
    index = np.minimum(np.searchsorted(offsets.hours, hours), len(offsets.hours) - 1)
    return index if np.array_equal(offsets.hours[index], hours) else None


def _shifted(values: np.ndarray, index: np.ndarray, offsets: Offsets, tz: str) -> np.ndarray:
    local: np.ndarray = offsets.offset[index]
    local += values
    if offsets.changing.any():
        odd = np.nonzero(offsets.changing[index])[0]
        if len(odd):
            local[odd] = _timezone(values[odd], tz)
    return local


def _timezone(micros: np.ndarray, tz: str) -> np.ndarray:
    """DuckDB's ``timezone(tz, t)`` of UTC instants, as local wall-clock microseconds."""
    con = scratch.cursor()
    try:
        con.register("placement_instants", pa.table({"t": pa.array(micros, _UTC)}))
        result = con.sql("SELECT timezone($tz, t) FROM placement_instants", params={"tz": tz}).to_arrow_table()
    finally:
        con.close()
    return np.asarray(result.column(0).combine_chunks().view(pa.int64()).to_numpy(zero_copy_only=False))


def _epoch(micros: np.ndarray) -> np.ndarray:
    """DuckDB's ``epoch`` of the interval ``micros`` (a difference of timestamps): whole days (truncated toward
    zero) times 86,400 plus the rest's microseconds / 1e6, in that float arithmetic."""
    days = np.where(micros < 0, -(-micros // DAY), micros // DAY)
    result: np.ndarray = days * 86400.0 + (micros - days * DAY) / 1e6
    return result


# --- where in the schedule -------------------------------------------------------------------------------------


def _schedule(slots: pa.Table, groups: pa.Array[Any]) -> np.ndarray:
    """``minute_slots`` as a ``[group, holiday * 7 + weekday - 1, minute]`` cube of flags (workday, in hours, in
    break, and holiday in the second half); a group without rows has none."""
    cube = np.zeros((len(groups), 2, 7, MINUTES_PER_DAY), dtype=np.uint8)
    if slots.num_rows:
        group = _lookup(slots.column("grp"), groups)
        isodow, isodow_valid = _filled(_array(slots.column("isodow")).cast(pa.int64()), 0, np.int64)
        minute, minute_valid = _filled(_array(slots.column("minute")).cast(pa.int64()), -1, np.int64)
        ok = (group >= 0) & isodow_valid & minute_valid & (isodow >= 1) & (isodow <= 7)
        ok &= (minute >= 0) & (minute < MINUTES_PER_DAY)
        flags = np.zeros(slots.num_rows, dtype=np.uint8)
        for name, bit in (("is_workday", WORKDAY), ("in_hours", IN_HOURS), ("in_break", IN_BREAK)):
            values = _array(slots.column(name)).fill_null(False)
            flags |= np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.uint8) * np.uint8(bit)
        cube[group[ok], 0, isodow[ok] - 1, minute[ok]] = flags[ok]
    cube[:, 1] = cube[:, 0] | np.uint8(HOLIDAY)
    return cube


def _days(day: np.ndarray, holidays: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """ISO weekday (int64) and ``holiday * 7 + weekday - 1`` (int32) of each day (``policy_holidays``), looked up
    in a table of the days the records span."""
    listed, valid = _filled(_array(holidays.column("day")).cast(pa.int32()).cast(pa.int64()), 0, np.int64)
    listed = listed[valid]
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    low = int(day.min())
    span = int(day.max()) - low + 1
    if span > DENSE_HOURS:
        weekday = (day + 3) % 7 + 1
        return weekday, (np.isin(day, listed) * 7 + weekday - 1).astype(np.int32)
    days = np.arange(low, low + span, dtype=np.int64)
    weekday = (days + 3) % 7 + 1
    code = (np.isin(days, listed) * 7 + weekday - 1).astype(np.int32)
    index = day - low
    return weekday[index], code[index]


def _delegation(minutes: pa.Table, agent: np.ndarray, agents: pa.Array[Any], person: np.ndarray, persons: pa.Array[Any],
                isodow: np.ndarray, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """The four equality lookups of ``delegation_minutes`` (own identifier or person, by weekday or by date),
    on the records whose identifier or person has any delegation: usually none, so nothing is done."""
    found = np.zeros(len(agent), dtype=bool)
    if minutes.num_rows == 0 or len(agent) == 0:
        return found
    declared = pc.unique(minutes.column("agent").cast(_TEXT).combine_chunks())
    code_of_agent = _lookup(pa.chunked_array([agents], _TEXT), declared)
    code_of_person = _lookup(pa.chunked_array([persons], _TEXT), declared)
    own = np.where(agent >= 0, code_of_agent[np.maximum(agent, 0)], -1) if len(agents) else np.full(len(agent), -1)
    theirs = (np.where(person >= 0, code_of_person[np.maximum(person, 0)], -1) if len(persons)
              else np.full(len(agent), -1))
    who = _lookup(minutes.column("agent"), declared)
    week, week_valid = _filled(minutes.column("isodow").combine_chunks().cast(pa.int64()), 0, np.int64)
    date, date_valid = _filled(minutes.column("day").combine_chunks().cast(pa.int32()).cast(pa.int64()), 0,
                               np.int64)
    at, at_valid = _filled(minutes.column("minute").combine_chunks().cast(pa.int64()), -1, np.int64)
    usable = (who >= 0) & at_valid & (at >= 0) & (at < MINUTES_PER_DAY)
    weekly = usable & week_valid & (week >= 1) & (week <= 7)
    low, span = int(day.min()), int(day.max() - day.min()) + 1
    dated = usable & date_valid & (date >= low) & (date < low + span)
    weekly_keys = np.unique(((who * 8 + week) * MINUTES_PER_DAY + at)[weekly])
    dated_keys = np.unique(((who * span + (date - low)) * MINUTES_PER_DAY + at)[dated])
    for code in (own, theirs):
        rows = np.nonzero(code >= 0)[0]
        if len(rows) == 0:
            continue
        week_key = (code[rows] * 8 + isodow[rows]) * MINUTES_PER_DAY + minute[rows]
        date_key = (code[rows] * span + (day[rows] - low)) * MINUTES_PER_DAY + minute[rows]
        found[rows] |= np.isin(week_key, weekly_keys) | np.isin(date_key, dated_keys)
    return found
