"""The ``events`` view (``views/10_events.sql``) in pyarrow and numpy: every record placed in the declared schedule.

The SQL is the definition (``tests/unit/test_metric_placement.py`` holds this module to it); in DuckDB it cost
~0.7 s of CPU per million rows, most of it converting each time to the policy's zone and joining four lookups.
Here the per-value work is arithmetic on integer microseconds: text becomes dictionary codes once, each
(tool, agent) pair is looked up in the identity map once, the zone's offset is computed once per UTC hour, and
the declared schedule is a dense ``[group, weekday, minute]`` cube indexed by those codes.

The zone offsets come from DuckDB itself (``timezone()``, the SQL's function): pyarrow's time-zone database
disagrees with DuckDB's (ICU) after 2037 and for zones whose rules changed lately (Africa/Casablanca).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HOUR = 3_600_000_000
DAY = 86_400_000_000
MINUTES_PER_DAY = 1440
#: Above this many UTC hours between the first and last time, offsets are computed for the distinct hours only.
DENSE_HOURS = 1 << 22
#: Above this many (tool, agent) pairs of codes, the identity lookup is a sort instead of a dense table.
DENSE_PAIRS = 1 << 24
#: ``slot`` by priority: holiday, rest day, break, outside hours, shift.
SLOTS = ("holiday", "rest_day", "break", "off_hours", "shift")
WORKDAY, IN_HOURS, IN_BREAK = 1, 2, 4


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
_LOCK = threading.Lock()
_CON: list[duckdb.DuckDBPyConnection] = []


@dataclass
class Raw:
    """The records of every kind, one array per column, in the SQL's order; text as codes into ``tools`` and
    ``agents`` (-1 for null)."""

    kind: np.ndarray
    kinds: list[str]
    tool: np.ndarray
    tools: pa.Array
    agent: np.ndarray
    agents: pa.Array
    t: np.ndarray
    busy: np.ndarray

    def take(self, rows: np.ndarray) -> Raw:
        return Raw(self.kind[rows], self.kinds, self.tool[rows], self.tools, self.agent[rows], self.agents,
                   self.t[rows], self.busy[rows])


def place_events(tables: Mapping[str, pa.Table]) -> pa.Table:
    """``SELECT * FROM events`` (``views/10_events.sql``) on ``tables``: the eight canonical kinds, and
    ``policy_params``, ``identities``, ``policy_holidays``, ``minute_slots`` and ``delegation_minutes`` as the
    runner makes them. The same columns, types and rows, in the SQL's natural order (kinds in UNION ALL order,
    rows in table order); the text columns (kind, tool, agent, person, grp, slot) are dictionary-encoded
    (``dictionary<int32, string>``, one dictionary per column, no repeated value)."""
    params = tables["policy_params"]
    if params.num_rows != 1:
        raise ValueError("policy_params must have exactly one row")
    tz = str(params.column("tz")[0].as_py())
    default_group = params.column("default_group")[0].as_py()
    raw = _raw(tables)
    identities = tables["identities"]
    rows, ident = _identity_rows(raw, identities)
    if rows is not None:
        raw = raw.take(rows)
    person, persons, grp, groups = _people(raw, ident, identities, default_group)
    local_t, local_busy = _local(raw.t, raw.busy, tz)
    day = local_t // DAY
    midnight = day * DAY
    minute = ((local_t - midnight) / 1e6) / 60.0
    busy_minute = _epoch(local_busy - midnight) / 60.0
    floor_minute = np.floor(minute).astype(np.int64)
    isodow = (day + 3) % 7 + 1
    flags = _schedule(tables["minute_slots"], groups)[grp, isodow - 1, floor_minute]
    holiday = _holidays(tables["policy_holidays"], day)
    delegation = _delegation(tables["delegation_minutes"], raw.agent, raw.agents, person, persons, isodow, day,
                             floor_minute)
    rest = (flags & WORKDAY) == 0
    in_hours = (flags & IN_HOURS) != 0
    in_break = (flags & IN_BREAK) != 0
    slot = _SLOT_BY_FLAGS[holiday * 8 + rest * 4 + in_break * 2 + in_hours]
    return pa.table({
        "kind": _dictionary(raw.kind, pa.array(raw.kinds, _TEXT)),
        "tool": _dictionary(raw.tool, raw.tools),
        "agent": _dictionary(raw.agent, raw.agents),
        "person": _dictionary(person, persons),
        "t": pa.array(raw.t, _UTC),
        "busy_until": pa.array(raw.busy, _UTC),
        "local_t": pa.array(local_t, pa.timestamp("us")),
        "local_day": pa.array(day.astype(np.int32), pa.date32()),
        "isodow": pa.array(isodow, pa.int64()),
        "minute": pa.array(minute, pa.float64()),
        "busy_minute": pa.array(busy_minute, pa.float64()),
        "grp": _dictionary(grp, groups),
        "is_weekend": pa.array(isodow >= 6),
        "is_holiday": pa.array(holiday),
        "is_rest_day": pa.array(rest),
        "in_hours": pa.array(in_hours),
        "in_break": pa.array(in_break),
        "in_delegation": pa.array(delegation),
        "slot": _dictionary(slot, pa.array(SLOTS, _TEXT)),
    })


def _slot_by_flags() -> np.ndarray:
    """The slot's code for each (holiday, rest day, break, in hours) as bits 8, 4, 2, 1."""
    codes = np.empty(16, dtype=np.int32)
    for bits in range(16):
        holiday, rest, brk, hours = bits & 8, bits & 4, bits & 2, bits & 1
        codes[bits] = 0 if holiday else 1 if rest else 2 if brk else 3 if not hours else 4
    return codes


_SLOT_BY_FLAGS = _slot_by_flags()


# --- the records -----------------------------------------------------------------------------------------------


def _raw(tables: Mapping[str, pa.Table]) -> Raw:
    """The ``raw`` CTE with ``r.t IS NOT NULL`` applied and ``busy_until`` computed."""
    kept, tools, agents, times, ends, names, codes = [], [], [], [], [], [], []
    for kind in KINDS:
        table = tables[kind.name]
        t, valid = _first_time(table, kind.times)
        end, end_valid = _end(table, kind, t)
        keep = valid
        if kind.needs_agent:
            keep = keep & table.column("agent").is_valid().to_numpy(zero_copy_only=False)
        kept.append(keep)
        tools.append(_text(table.column("tool")))
        agents.append(_text(table.column("agent")))
        times.append(t[keep])
        busy = t if end is None else np.where(end_valid & (end > t), end, t)
        ends.append(busy[keep])
        count = int(np.count_nonzero(keep))
        if count:
            codes.append(np.full(count, len(names), dtype=np.int32))
            names.append(kind.name)
    keep_all = np.concatenate(kept)
    tool, tool_values = _codes(tools, keep_all)
    agent, agent_values = _codes(agents, keep_all)
    kind_code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
    return Raw(kind_code, names, tool, tool_values, agent, agent_values, np.concatenate(times),
               np.concatenate(ends))


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
    values = column.combine_chunks().view(pa.int64()) if column.num_chunks != 1 else column.chunk(0).view(pa.int64())
    return _filled(values, 0, np.int64)


def _numbers(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, np.ndarray]:
    values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return _filled(values.cast(pa.float64()), 0.0, np.float64)


def _filled(values: pa.Array, fill: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    if values.null_count == 0:
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype), np.ones(len(values), dtype=bool)
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=dtype), valid


def _bigint(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """DuckDB's ``CAST(x AS BIGINT)`` of a double: rounded to nearest, ties away from zero (C's ``round``); an
    error outside BIGINT's range, as in DuckDB."""
    checked = values[valid]
    if not np.all(np.isfinite(checked)) or np.any(np.abs(checked) >= 2.0**63):
        raise ValueError("a duration is out of the range of a BIGINT of microseconds")
    whole = np.trunc(np.where(valid, values, 0.0))
    half = np.abs(values - whole) >= 0.5
    return (whole + np.where(half & valid, np.sign(values), 0.0)).astype(np.int64)


def _text(column: pa.ChunkedArray[Any]) -> list[pa.Array]:
    if column.type != _TEXT:
        column = column.cast(_TEXT)
    return list(column.chunks)


def _codes(chunks: list[list[pa.Array]], keep: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """One dictionary for a text column of every kind: the kept rows' codes (-1 for null) and the values."""
    flat = [chunk for kind in chunks for chunk in kind]
    if not flat:
        return np.zeros(0, dtype=np.int32), pa.array([], _TEXT)
    encoded = pc.dictionary_encode(pa.chunked_array(flat, _TEXT))
    values = encoded.chunk(encoded.num_chunks - 1).dictionary if encoded.num_chunks else pa.array([], _TEXT)
    indices = pa.chunked_array([chunk.indices for chunk in encoded.chunks], pa.int32())
    codes, _ = _filled(indices.combine_chunks(), -1, np.int32)
    return codes[keep], values


def _dictionary(codes: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """Codes (-1 for null) as a dictionary array."""
    mask = codes < 0
    indices = pa.array(codes.astype(np.int32, copy=False), pa.int32(), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, values)


# --- who: person and group ---------------------------------------------------------------------------------------


def _identity_rows(raw: Raw, identities: pa.Table) -> tuple[np.ndarray | None, np.ndarray]:
    """The row of ``identities`` each record joins (``agent`` and ``tool`` equal; -1 for none) and, if an
    identifier is in the table twice (declared for two persons), the records repeated as the join repeats them."""
    space = len(raw.agents) + 1
    tool = _lookup(identities.column("tool"), raw.tools)
    agent = _lookup(identities.column("agent"), raw.agents)
    found = (tool >= 0) & (agent >= 0)
    keys = tool.astype(np.int64) * space + agent
    keys = np.where(found, keys, -1)
    pair = raw.tool.astype(np.int64) * space + raw.agent
    pair = np.where((raw.tool >= 0) & (raw.agent >= 0), pair, -1)
    listed = keys[found]
    if len(np.unique(listed)) == len(listed):
        size = (len(raw.tools) + 1) * space
        if size <= DENSE_PAIRS:
            table = np.full(size + 1, -1, dtype=np.int64)  # the last entry answers a pair with a null
            table[listed] = np.nonzero(found)[0]
            return None, table[pair]
    return _joined(pair, keys)


def _joined(pair: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The left join of records (``pair``, -1 matching nothing) on identity rows (``keys``) by sorting: each record
    once per matching row, or once with -1."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    low = np.searchsorted(ordered, pair, side="left")
    count = np.searchsorted(ordered, pair, side="right") - low
    count = np.where(pair >= 0, count, 0)
    repeat = np.maximum(count, 1)
    rows = np.repeat(np.arange(len(pair)), repeat)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    ident = np.where(count[rows] > 0, order[np.minimum(low[rows] + step, len(order) - 1)], -1)
    return (None if len(rows) == len(pair) else rows), ident


def _lookup(column: pa.ChunkedArray[Any], values: pa.Array) -> np.ndarray:
    """The position of each value of ``column`` in ``values`` (-1 if absent or null)."""
    found = pc.index_in(column.cast(_TEXT), value_set=values)
    return _filled(found.combine_chunks() if found.num_chunks != 1 else found.chunk(0), -1, np.int64)[0]


def _people(raw: Raw, ident: np.ndarray, identities: pa.Table, default_group: str) -> tuple[np.ndarray, pa.Array,
                                                                                             np.ndarray, pa.Array]:
    """``coalesce(i.person, r.agent)`` and ``coalesce(i.grp, default_group)`` as codes into their own values; one
    key per identity row, then per identifier, so that each record costs two lookups."""
    person_column = identities.column("person").cast(_TEXT)
    persons = pc.unique(pa.chunked_array([raw.agents, *person_column.chunks], _TEXT).combine_chunks())
    persons = persons.filter(persons.is_valid())
    group_column = identities.column("grp").cast(_TEXT)
    groups = pc.unique(pa.chunked_array([pa.array([default_group], _TEXT), *group_column.chunks],
                                        _TEXT).combine_chunks())
    groups = groups.filter(groups.is_valid())
    default = _lookup(pa.chunked_array([pa.array([default_group], _TEXT)]), groups)[0]
    agent_person = _lookup(pa.chunked_array([raw.agents], _TEXT), persons)
    ident_agent = _lookup(identities.column("agent"), raw.agents)
    ident_person = _lookup(person_column, persons)
    ident_person = np.where(ident_person >= 0, ident_person, agent_person[ident_agent])
    ident_group = _lookup(group_column, groups)
    ident_group = np.where(ident_group >= 0, ident_group, default)
    by_key_person = np.concatenate([ident_person, agent_person, [-1]])
    by_key_group = np.concatenate([ident_group, np.full(len(raw.agents) + 1, default)])
    key = np.where(ident >= 0, ident, len(ident_person) + np.where(raw.agent >= 0, raw.agent, len(raw.agents)))
    return by_key_person[key], persons, by_key_group[key], groups


# --- when: local time ------------------------------------------------------------------------------------------


def _local(t: np.ndarray, busy: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """``timezone(tz, t)`` and ``timezone(tz, busy_until)`` (the SQL's CASE is that: busy_until is t_end exactly
    when t_end > t). The offset is taken once per UTC hour; rows in an hour where it changes (the start and the
    end of the hour disagree) are converted one by one."""
    if len(t) == 0:
        return t.copy(), busy.copy()
    hours_t, hours_b = t // HOUR, busy // HOUR
    low = int(min(hours_t.min(), hours_b.min()))
    high = int(max(hours_t.max(), hours_b.max()))
    if high - low < DENSE_HOURS:
        grid = np.arange(low, high + 1, dtype=np.int64)
        index_t, index_b = hours_t - low, hours_b - low
    else:
        grid = np.unique(np.concatenate([hours_t, hours_b]))
        index_t, index_b = np.searchsorted(grid, hours_t), np.searchsorted(grid, hours_b)
    starts = grid * HOUR
    both = _timezone(np.concatenate([starts, starts + (HOUR - 1)]), tz)
    offset = both[: len(grid)] - starts
    changing = offset != both[len(grid):] - (starts + (HOUR - 1))
    return _shifted(t, index_t, offset, changing, tz), _shifted(busy, index_b, offset, changing, tz)


def _shifted(values: np.ndarray, index: np.ndarray, offset: np.ndarray, changing: np.ndarray, tz: str) -> np.ndarray:
    local: np.ndarray = values + offset[index]
    if changing.any():
        odd = np.nonzero(changing[index])[0]
        if len(odd):
            local[odd] = _timezone(values[odd], tz)
    return local


def _timezone(micros: np.ndarray, tz: str) -> np.ndarray:
    """DuckDB's ``timezone(tz, t)`` of UTC instants, as local wall-clock microseconds."""
    table = pa.table({"t": pa.array(micros, _UTC)})
    with _LOCK:
        if not _CON:
            con = duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET threads = 1")
            _CON.append(con)
        con = _CON[0]
        con.register("placement_instants", table)
        try:
            result = con.execute("SELECT timezone($tz, t) FROM placement_instants", {"tz": tz}).to_arrow_table()
        finally:
            con.unregister("placement_instants")
    return np.asarray(result.column(0).combine_chunks().view(pa.int64()).to_numpy(zero_copy_only=False))


def _epoch(micros: np.ndarray) -> np.ndarray:
    """DuckDB's ``epoch`` of the interval ``micros`` (a difference of timestamps): whole days (truncated toward
    zero) times 86,400 plus the rest's microseconds / 1e6, in that float arithmetic."""
    days = np.where(micros < 0, -(-micros // DAY), micros // DAY)
    result: np.ndarray = days * 86400.0 + (micros - days * DAY) / 1e6
    return result


# --- where in the schedule -------------------------------------------------------------------------------------


def _schedule(slots: pa.Table, groups: pa.Array) -> np.ndarray:
    """``minute_slots`` as a ``[group, weekday - 1, minute]`` cube of flags (workday, in hours, in break); a group
    without rows has none."""
    cube = np.zeros((len(groups), 7, MINUTES_PER_DAY), dtype=np.uint8)
    if slots.num_rows:
        group = _lookup(slots.column("grp"), groups)
        isodow, isodow_valid = _filled(slots.column("isodow").combine_chunks().cast(pa.int64()), 0, np.int64)
        minute, minute_valid = _filled(slots.column("minute").combine_chunks().cast(pa.int64()), -1, np.int64)
        ok = (group >= 0) & isodow_valid & minute_valid & (isodow >= 1) & (isodow <= 7)
        ok &= (minute >= 0) & (minute < MINUTES_PER_DAY)
        flags = np.zeros(slots.num_rows, dtype=np.uint8)
        for name, bit in (("is_workday", WORKDAY), ("in_hours", IN_HOURS), ("in_break", IN_BREAK)):
            values = pc.fill_null(slots.column(name), False).combine_chunks()
            flags |= np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.uint8) * np.uint8(bit)
        cube[group[ok], isodow[ok] - 1, minute[ok]] = flags[ok]
    return cube


def _holidays(holidays: pa.Table, day: np.ndarray) -> np.ndarray:
    """Whether each local day is in ``policy_holidays``: a table over the days the records span."""
    days, valid = _filled(holidays.column("day").combine_chunks().cast(pa.int32()).cast(pa.int64()), 0, np.int64)
    days = days[valid]
    if len(day) == 0 or len(days) == 0:
        return np.zeros(len(day), dtype=bool)
    low = int(day.min())
    span = int(day.max()) - low + 1
    inside = days[(days >= low) & (days < low + span)]
    table = np.zeros(span, dtype=bool)
    table[inside - low] = True
    return table[day - low]


def _delegation(minutes: pa.Table, agent: np.ndarray, agents: pa.Array, person: np.ndarray, persons: pa.Array,
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
