"""Three per-agent metrics over GPS fixes in pyarrow and numpy: ``coord_precision``, ``home_inference`` and
``tracking_controls``.

Their SQL files stay their definition (the tests hold each function to its file, run by DuckDB); here the
per-row work is integer group codes from dictionary indices, dense counts over the small space of (tool,
agent) codes and one sort where a per-group order is needed, instead of DuckDB's hash aggregates, quantiles
and windows over every fix. The labels of the toggle rules are matched by DuckDB itself, once per distinct
pair of labels, so that ``lower``/``strip_accents``/regex semantics are DuckDB's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from auditor.metrics import scratch
from auditor.metrics.placement import local_times

MICROSECONDS_PER_HOUR = 3_600_000_000
MICROSECONDS_PER_DAY = 86_400_000_000
#: Past this, folded integer keys are renumbered first (int64 must not overflow).
_CODE_LIMIT = 1 << 62
#: Largest dense table (cells) a count may use instead of a sort: this many, or this many per row.
_DENSE_LIMIT = 1 << 22
_DENSE_PER_ROW = 4
#: Up to this many (activity, provider) label combinations, all are matched instead of the ones present.
_LABEL_COMBINATIONS = 4096
#: Chunk of values the decimals cascade works on at once (stays in cache).
_STEP = 1 << 14
_POWERS = tuple(10.0**k for k in range(8))

#: Label rules, as the SQL files write them (``{x}`` is the padded, lowered, accent-stripped text).
_POSITION_TOGGLE = ("regexp_matches({x}, '[^a-z](off|pause|prive|private|desactiv[a-z]*|disabled|stop|arret"
                    "|masqu[a-z]*)[^a-z]')")
_ACTIVITY_TOGGLE = ("regexp_matches({x}, '(geoloc|gps|location|localisation|tracking|suivi)') AND "
                    "regexp_matches({x}, '[^a-z](off|pause|prive|private|desactiv[a-z]*|disabled|activ[a-z]*"
                    "|enabled|on|start|stop)[^a-z]')")


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    fields: list[pa.Field[Any]] = [pa.field(name, kind) for name, kind in columns]
    return pa.schema(fields)


#: The result types DuckDB gives each SQL file (``greatest`` of the macro's integer CASE is INTEGER).
COORD_PRECISION_SCHEMA = _schema(
    ("kind", pa.string()), ("tool", pa.string()), ("agent", pa.string()), ("n_fixes", pa.int64()),
    ("max_decimals", pa.int32()), ("median_decimals", pa.int32()), ("share_5_decimals_plus", pa.float64()),
    ("median_accuracy_m", pa.float64()))
HOME_INFERENCE_SCHEMA = _schema(
    ("tool", pa.string()), ("agent", pa.string()), ("night_fixes", pa.int64()), ("nights", pa.int64()),
    ("top_cell_fixes", pa.int64()), ("top_cell_nights", pa.int64()), ("top_cell_share", pa.float64()))
TRACKING_CONTROLS_SCHEMA = _schema(
    ("tool", pa.string()), ("agent", pa.string()), ("n_fixes", pa.int64()), ("days_with_fixes", pa.int64()),
    ("n_speed", pa.int64()), ("max_speed_kmh", pa.float64()), ("toggle_events", pa.int64()))


# --- coord_precision -------------------------------------------------------------------------------------------

def coord_precision(tables: Mapping[str, pa.Table]) -> pa.Table:
    """``coord_precision.sql``: per kind, tool and agent (null agents and fixes without both coordinates left
    out, a null tool kept as a group), the fixes, the largest and the lower-median number of decimals of the
    coordinates, the share with 5 or more, the median reported accuracy. Rows in no particular order."""
    parts = [_precision_of(kind, tables[kind]) for kind in ("positions", "clock_events", "care_acts")]
    return pa.concat_tables([COORD_PRECISION_SCHEMA.empty_table(), *parts])


def _precision_of(kind: str, table: pa.Table) -> pa.Table:
    keep = _valid(table.column("agent")) & _valid(table.column("lat")) & _valid(table.column("lon"))
    if not keep.all():
        table = table.filter(pa.array(keep))
    if table.num_rows == 0:
        return COORD_PRECISION_SCHEMA.empty_table()
    groups = _Groups.of(table.column("tool"), table.column("agent"))
    decimals = np.maximum(_decimals(_float64(table.column("lat"))), _decimals(_float64(table.column("lon"))))
    histogram = np.bincount(groups.codes * 9 + decimals, minlength=groups.size * 9).reshape(groups.size, 9)
    counts = histogram.sum(axis=1)
    present = np.flatnonzero(counts)
    histogram, counts = histogram[present], counts[present]
    cumulative = histogram.cumsum(axis=1)
    lower = (counts - 1) // 2  # quantile_disc(0.5): the value at position floor((n - 1) / 2)
    median = (cumulative <= lower[:, None]).sum(axis=1)
    largest = 8 - np.argmax(histogram[:, ::-1] > 0, axis=1)
    share = histogram[:, 5:].sum(axis=1) / counts
    if "accuracy_m" in table.column_names:
        accuracy = _group_medians(groups.codes, groups.size, table.column("accuracy_m"))
        median_accuracy = accuracy.take(present)
    else:
        median_accuracy = pa.nulls(len(present), pa.float64())
    tool, agent = groups.keys(present)
    return pa.table([pa.array(np.full(len(present), kind)), tool, agent, pa.array(counts, pa.int64()),
                     pa.array(largest, pa.int32()), pa.array(median, pa.int32()), pa.array(share, pa.float64()),
                     median_accuracy], schema=COORD_PRECISION_SCHEMA)


def _decimals(x: np.ndarray) -> np.ndarray:
    """The ``decimals`` macro (never null here), as int8: the first k in 0..7 with |x·10^k − round(x·10^k)| <
    1e-6, else 8.

    Per cache-sized chunk, one likely answer c (the previous chunk's most common) is certified where it can be:
    level c passes (the macro's own float test), and m = round(x·10^c) has a last digit other than 0, so that
    at every level k < c, x·10^k = (m + e)/10^(c−k) (|e| ≤ 2e-6 for |x| ≤ 1000) stays at least 1/10^(c−k) from
    an integer; for c − k = 6 and 7, where that is not more than the 1e-6 margin, m must also be 2 or more from a
    multiple of 10^6 and 12 or more from a multiple of 10^7. Anything else takes the whole cascade, each test
    the macro's float arithmetic (one product, exact subtraction)."""
    out = np.empty(len(x), dtype=np.int8)
    likely = 6
    for start in range(0, len(x), _STEP):
        chunk, found = x[start:start + _STEP], out[start:start + _STEP]
        if 1 <= likely <= 7:
            found.fill(likely)
            rest = np.flatnonzero(~_certified(chunk, likely))
        else:
            rest = np.arange(len(chunk))
        if len(rest):
            found[rest] = _cascade(chunk[rest])
        if 2 * len(rest) > len(chunk):  # a poor guess: the next chunk tries this one's most common answer
            likely = int(np.argmax(np.bincount(found, minlength=9)))
    return out


def _certified(x: np.ndarray, c: int) -> np.ndarray:
    """Where ``decimals(x)`` is certainly ``c`` (1 ≤ c ≤ 7); see ``_decimals``."""
    y = np.multiply(x, _POWERS[c])
    m = np.rint(y)
    r = np.empty_like(y)
    np.abs(np.subtract(y, m, out=y), out=y)
    sure: np.ndarray = y < 1e-6  # level c passes
    if len(x) and not -1000 <= x.min() <= x.max() <= 1000:
        sure &= np.abs(x) <= 1000
    np.divide(m, 10, out=y)  # exact division: an integer exactly when m ends in 0
    sure &= y != np.rint(y, out=r)
    for modulus, floor in ((1e6, 1.5e-6), (1e7, 11.5e-7))[:max(0, c - 5)]:
        # level c − 6 (c − 7): m at least 2 (12) from a multiple of 10^6 (10^7); m/modulus is within 1e-11
        # of an integer plus a multiple of 1/modulus
        np.divide(m, modulus, out=y)
        np.abs(np.subtract(y, np.rint(y, out=r), out=y), out=y)
        sure &= y > floor
    return sure


def _cascade(x: np.ndarray) -> np.ndarray:
    """The macro's tests in its order: the first level that passes."""
    found = np.full(len(x), 8, dtype=np.int8)
    y, r = np.empty(len(x)), np.empty(len(x))
    for k in range(7, -1, -1):  # the smallest passing k is written last
        np.multiply(x, _POWERS[k], out=y)
        np.subtract(y, np.rint(y, out=r), out=y)
        np.abs(y, out=y)
        found[y < 1e-6] = k
    return found


def _group_medians(codes: np.ndarray, size: int, column: pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """DuckDB's ``median`` of a DOUBLE per group code (null where a group has no value): the middle value, or
    for an even count ``lo * 0.5 + hi * 0.5`` (``lo·(1 − d) + hi·d``, d = 0.5: measured against DuckDB, also at
    overflow and subnormals). Values are ranked through their distinct values, then counted (dense) or sorted."""
    distinct, inverse = _distinct_floats(column)  # a null has the rank len(distinct)
    if column.null_count:
        valid = _valid(column)
        codes, inverse = codes[valid], inverse[valid]
    ranks = len(distinct)
    counts = np.bincount(codes, minlength=size)
    starts = np.cumsum(counts) - counts
    low_position = starts + (counts - 1) // 2
    high_position = starts + counts // 2
    has = counts > 0
    low_position, high_position = low_position[has], high_position[has]
    if size * max(ranks, 1) <= max(_DENSE_LIMIT, _DENSE_PER_ROW * len(codes)):
        cumulative = np.cumsum(np.bincount(codes * ranks + inverse, minlength=size * ranks))
        low_rank = np.searchsorted(cumulative, low_position, side="right") % ranks
        high_rank = np.searchsorted(cumulative, high_position, side="right") % ranks
    else:
        ordered = np.sort(_fold(codes, inverse, ranks))
        low_rank, high_rank = ordered[low_position] % ranks, ordered[high_position] % ranks
    lo, hi = distinct[low_rank], distinct[high_rank]
    median = np.where(low_position == high_position, lo, lo * 0.5 + hi * 0.5)
    full = np.zeros(size)
    full[has] = median
    return pa.array(full, pa.float64(), mask=~has)


def _distinct_floats(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values and each value's rank among them (hashing, then sorting only the distinct)."""
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(column.cast(pa.float64())).combine_chunks())
    dictionary = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.float64)
    order = np.argsort(dictionary, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = len(order)
    return dictionary[order], rank[_integers(encoded.indices, len(order))]


# --- home_inference --------------------------------------------------------------------------------------------

def home_inference(tables: Mapping[str, pa.Table]) -> pa.Table:
    """``home_inference.sql``: per tool and agent (null ones dropped by the SQL's join) with fixes at night
    (21:00–06:00 local time of the policy's zone), the night fixes, the nights, and the top cell of 0.001° (most
    nights, then most fixes, then the lowest cell latitude and longitude): its fixes, nights and share. Only the
    time of every fix is read; the rest of the night fixes alone. Rows in no particular order."""
    positions, params = tables["positions"], tables["policy_params"]
    zones = [zone for zone in params.column("tz").to_pylist() if zone is not None]  # timezone(NULL, t): no hour
    if positions.num_rows == 0 or not zones:
        return HOME_INFERENCE_SCHEMA.empty_table()
    keep = (_valid(positions.column("tool")) & _valid(positions.column("agent")) & _valid(positions.column("time"))
            & _valid(positions.column("lat")) & _valid(positions.column("lon")))
    kept = None if keep.all() else np.flatnonzero(keep)
    utc = _int64(positions.column("time").cast(pa.timestamp("us", tz="UTC")))
    if kept is not None:
        utc = utc[kept]
    parts_row, parts_night = [], []
    for zone in zones:  # the SQL's cross join with policy_params: one pass per row of it
        rows = np.flatnonzero(_at_night(utc, zone))
        local = local_times(utc[rows], zone)
        parts_row.append(rows if kept is None else kept[rows])
        parts_night.append((local - 6 * MICROSECONDS_PER_HOUR) // MICROSECONDS_PER_DAY)
    rows = np.concatenate(parts_row)
    if len(rows) == 0:
        return HOME_INFERENCE_SCHEMA.empty_table()
    if len(rows) * 4 > positions.num_rows:  # most fixes at night: encode the columns, then take the codes
        groups = _Groups.of(positions.column("tool"), positions.column("agent"))
        code = groups.codes[rows]
        lat, lon = _float64(positions.column("lat"))[rows], _float64(positions.column("lon"))[rows]
    else:
        night = positions.select(["tool", "agent", "lat", "lon"]).take(rows)
        groups = _Groups.of(night.column("tool"), night.column("agent"))
        code = groups.codes
        lat, lon = _float64(night.column("lat")), _float64(night.column("lon"))
    night_day = np.concatenate(parts_night)
    day = night_day - night_day.min()
    days = int(day.max()) + 1
    # cells: (group, cell_lat, cell_lon) in sorted order, so that ties go to the lowest latitude, then longitude
    cell_key, cell_span = code, groups.size
    divisor: int | None = 1  # cell key // divisor is the group code, until keys are renumbered
    for degrees in (lat, lon):
        ranks, span = _ranks(np.floor(degrees * 1000))
        if cell_span * span >= _CODE_LIMIT:  # renumbered: the cells in the same order
            (cell_key, cell_span), divisor = _dense(cell_key), None
        cell_key, cell_span = cell_key * span + ranks, cell_span * span
        divisor = None if divisor is None else divisor * span
    if cell_span * days >= _CODE_LIMIT:
        (cell_key, cell_span), divisor = _dense(cell_key), None
    # one sort of (cell, night): its runs are the cells, its distinct values the nights of each
    ordered = np.sort(cell_key * days + day)
    cell_sorted = ordered // days
    new_cell = _run_starts(cell_sorted)
    new_night = _run_starts(ordered)
    starts = np.flatnonzero(new_cell)
    cell_fixes = np.diff(np.append(starts, len(ordered)))
    cell_nights = np.add.reduceat(new_night.astype(np.int64), starts)
    cells = cell_sorted[starts]
    group_fixes = np.bincount(code, minlength=groups.size)
    group_nights = _distinct_counts(code, groups.size, day, days)
    cell_group = cells // divisor if divisor is not None else _group_of_cells(cells, code, cell_key)
    # per group, the cell of most nights, then most fixes; cells are in (lat, lon) order within a group
    score = cell_nights * (int(cell_fixes.max()) + 1) + cell_fixes
    group_starts = np.flatnonzero(_run_starts(cell_group))
    best = np.repeat(np.maximum.reduceat(score, group_starts), np.diff(np.append(group_starts, len(score))))
    candidates = np.flatnonzero(score == best)
    top = candidates[_run_starts(cell_group[candidates])]
    present = cell_group[top]
    tool, agent = groups.keys(present)
    night_fixes = group_fixes[present]
    return pa.table([tool, agent, pa.array(night_fixes, pa.int64()), pa.array(group_nights[present], pa.int64()),
                     pa.array(cell_fixes[top], pa.int64()), pa.array(cell_nights[top], pa.int64()),
                     pa.array(cell_fixes[top] / night_fixes, pa.float64())], schema=HOME_INFERENCE_SCHEMA)


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array begins."""
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    return starts


def _dense(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Keys renumbered 0.. in the same order (by a sort), and their count."""
    distinct = np.sort(keys)
    distinct = distinct[_run_starts(distinct)]
    return np.searchsorted(distinct, keys).astype(np.int64), len(distinct)


def _group_of_cells(cells: np.ndarray, code: np.ndarray, cell_key: np.ndarray) -> np.ndarray:
    """The group code of each (sorted, distinct) cell key: the group of any row of the cell."""
    rows = np.empty(len(cells), dtype=np.int64)
    rows[np.searchsorted(cells, cell_key)] = np.arange(len(cell_key))
    group: np.ndarray = code[rows]
    return group


def _ranks(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integral doubles as order-preserving small integers from 0, and their span (``_fold``'s size)."""
    if len(values) and np.isfinite(values).all() and np.abs(values).max() < 2.0**52:
        integers: np.ndarray = values.astype(np.int64)
        low = int(integers.min())
        return integers - low, int(integers.max()) - low + 1
    distinct, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64), len(distinct)


def _is_night(local_micros: np.ndarray) -> np.ndarray:
    hour = local_micros // MICROSECONDS_PER_HOUR % 24
    night: np.ndarray = (hour >= 21) | (hour < 6)
    return night


def _at_night(utc: np.ndarray, zone: str) -> np.ndarray:
    """Whether each instant falls between 21:00 and 06:00 local time."""
    return _is_night(local_times(utc, zone))


def _distinct_counts(code: np.ndarray, size: int, value: np.ndarray, span: int) -> np.ndarray:
    """Per group code, the number of distinct ``value`` (in ``range(span)``): ``count(DISTINCT value)``."""
    if size * span <= max(_DENSE_LIMIT, _DENSE_PER_ROW * len(code)):
        seen = np.zeros(size * span, dtype=bool)
        seen[code * span + value] = True
        counts: np.ndarray = seen.reshape(size, span).sum(axis=1)
        return counts
    if size * span < _CODE_LIMIT:
        ordered = np.sort(code * span + value)
        return np.bincount((ordered // span)[_run_starts(ordered)], minlength=size)
    order = np.lexsort((value, code))
    first = _run_starts(code[order]) | _run_starts(value[order])
    return np.bincount(code[order][first], minlength=size)


# --- tracking_controls -----------------------------------------------------------------------------------------

def tracking_controls(tables: Mapping[str, pa.Table]) -> pa.Table:
    """``tracking_controls.sql``: per tool and agent of ``positions`` (null ones kept as groups), the fixes, the
    local days with fixes (from the completed ``events``; null where the tool is null or no event matches), the
    fixes with a speed, the top speed in km/h, and the toggle labels: fixes whose activity or provider says
    pause/off/…, plus the agent's matching activity events. Rows in no particular order."""
    positions = tables["positions"]
    if positions.num_rows == 0:
        return TRACKING_CONTROLS_SCHEMA.empty_table()
    groups = _Groups.of(positions.column("tool"), positions.column("agent"))
    counts = np.bincount(groups.codes, minlength=groups.size)
    present = np.flatnonzero(counts)
    speed_valid = _valid(positions.column("speed_mps"))
    speed = _float64(positions.column("speed_mps"))
    speed_codes = groups.codes
    if not speed_valid.all():
        speed_codes, speed = speed_codes[speed_valid], speed[speed_valid]
    n_speed = np.bincount(speed_codes, minlength=groups.size)
    top = np.full(groups.size, -np.inf)
    np.maximum.at(top, speed_codes, speed)
    toggled = _toggled_fixes(positions)
    toggles = np.bincount(groups.codes[toggled], minlength=groups.size) if toggled is not None else 0
    toggles = toggles + _activity_toggles(tables["activity_events"], groups)
    days, has_days = _days_with_fixes(tables["events"], groups)
    tool, agent = groups.keys(present)
    return pa.table([
        tool, agent, pa.array(counts[present], pa.int64()),
        pa.array(days[present], pa.int64(), mask=~has_days[present]),
        pa.array(n_speed[present], pa.int64()),
        pa.array(top[present] * 3.6, pa.float64(), mask=n_speed[present] == 0),
        pa.array(np.broadcast_to(toggles, (groups.size,))[present], pa.int64())], schema=TRACKING_CONTROLS_SCHEMA)


def _toggled_fixes(positions: pa.Table) -> np.ndarray | None:
    """Which fixes carry a toggle label (None: none does), matched once per distinct (activity, provider). With
    few distinct labels every combination is matched first, so that fixes without any toggle (the usual case)
    cost no per-row step but finding the labels."""
    texts = _distinct_texts(positions.column("activity")), _distinct_texts(positions.column("provider"))
    if (len(texts[0]) + 1) * (len(texts[1]) + 1) <= _LABEL_COMBINATIONS:
        first, second = np.divmod(np.arange((len(texts[0]) + 1) * (len(texts[1]) + 1)), len(texts[1]) + 1)
        everything = _Dictionary(first, texts[0]), _Dictionary(second, texts[1])
        if not _match(everything[0].take(first), everything[1].take(second), _POSITION_TOGGLE).any():
            return None
    activity = _Dictionary.of(positions.column("activity"))
    provider = _Dictionary.of(positions.column("provider"))
    width = provider.size + 1
    space = (activity.size + 1) * width
    candidates = np.arange(space) if space <= _LABEL_COMBINATIONS else np.unique(
        _fold(activity.codes, provider.codes, width))
    first, second = np.divmod(candidates, width)
    matched = _match(activity.take(first), provider.take(second), _POSITION_TOGGLE)
    if not matched.any():
        return None
    hits = _fold(activity.codes, provider.codes, width)
    if space > _LABEL_COMBINATIONS:
        found: np.ndarray = np.isin(hits, candidates[matched])
        return found
    toggled: np.ndarray = _scatter(space, candidates[matched])[hits]
    return toggled


def _scatter(size: int, where: np.ndarray) -> np.ndarray:
    flags = np.zeros(size, dtype=bool)
    flags[where] = True
    return flags


def _activity_toggles(activity_events: pa.Table, groups: _Groups) -> np.ndarray:
    """Per group code, the agent's activity events that switch tracking (``toggles``): joined on the agent by
    equality, so never for a null agent."""
    out = np.zeros(groups.size, dtype=np.int64)
    if activity_events.num_rows == 0:
        return out
    action = _Dictionary.of(activity_events.column("action"))
    detail = _Dictionary.of(activity_events.column("detail"))
    distinct, inverse = np.unique(_fold(action.codes, detail.codes, detail.size + 1), return_inverse=True)
    first, second = np.divmod(distinct, detail.size + 1)
    matched = _match(action.take(first), detail.take(second), _ACTIVITY_TOGGLE)[inverse]
    if not matched.any():
        return out
    agent = _Dictionary.of(activity_events.column("agent"))
    per_agent = np.append(np.bincount(agent.codes[matched], minlength=agent.size + 1)[:agent.size], 0)
    ours = _Dictionary(np.arange(groups.agent.size + 1), groups.agent.values)
    return cast("np.ndarray", per_agent[ours.translated(agent, null_matches=False)][groups.agent_code])


def _days_with_fixes(events: pa.Table, groups: _Groups) -> tuple[np.ndarray, np.ndarray]:
    """Per group code, the events of kind 'positions' that are an agent's first of a local day, and whether the
    group has any (tool by equality: never a null tool; agent null-safe). Every (kind, tool, agent, day) of the
    completed events has a first record, so a group with events of that kind has at least one."""
    kind = _Dictionary.of(events.column("kind"))
    first_of_day = kind.equals("positions") & ~_valid(events.column("interval_s"))
    rows = np.flatnonzero(first_of_day)
    tool = _Dictionary.of(events.column("tool").take(rows)).translated(groups.tool, null_matches=False)
    agent = _Dictionary.of(events.column("agent").take(rows)).translated(groups.agent, null_matches=True)
    matches = (tool >= 0) & (agent >= 0)
    days = np.bincount((tool * (groups.agent.size + 1) + agent)[matches], minlength=groups.size)
    return days, days > 0


def _match(first: pa.Array[Any], second: pa.Array[Any], rule: str) -> np.ndarray:
    """The rule on ``' ' || strip_accents(lower(coalesce(first, '') || ' ' || coalesce(second, ''))) || ' '``
    for a few label pairs, by DuckDB (its lowering, accents and regexes)."""
    if len(first) == 0:
        return np.zeros(0, dtype=bool)
    text = "(' ' || strip_accents(lower(coalesce(a, '') || ' ' || coalesce(b, ''))) || ' ')"
    labels = pa.table({"a": first.cast(pa.string()), "b": second.cast(pa.string()),
                       "i": pa.array(np.arange(len(first)), pa.int64())})
    cursor = scratch.cursor()
    try:
        cursor.register("labels", labels)
        result = cursor.sql(f"SELECT {rule.format(x=text)} AS m FROM labels ORDER BY i").to_arrow_table()
    finally:
        cursor.close()
    return np.asarray(result.column("m").to_numpy(), dtype=bool)


# --- shared ----------------------------------------------------------------------------------------------------

class _Dictionary:
    """A text column as one integer per row (a null is the code ``size``) and its distinct values."""

    def __init__(self, codes: np.ndarray, values: pa.Array[Any]) -> None:
        self.codes = codes
        self.values = values
        self.size = len(values)

    @classmethod
    def of(cls, column: pa.ChunkedArray[Any]) -> _Dictionary:
        if pa.types.is_dictionary(column.type):
            return cls._of_dictionary(column)
        if column.null_count == len(column):
            return cls(np.zeros(len(column), dtype=np.int64), pa.array([], pa.string()))
        if column.null_count == 0 and _constant(column):  # an export's tool: cheaper than hashing
            return cls(np.zeros(len(column), dtype=np.int64), pa.array([column[0].as_py()], pa.string()))
        encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(column).combine_chunks())
        return cls(_integers(encoded.indices, len(encoded.dictionary)), encoded.dictionary.cast(pa.string()))

    @classmethod
    def _of_dictionary(cls, column: pa.ChunkedArray[Any]) -> _Dictionary:
        """From the indices; a value repeated in the dictionary (or across chunks) gets one code."""
        if column.num_chunks > 1:
            column = column.unify_dictionaries()
        chunks = [cast("pa.DictionaryArray[Any, Any]", chunk) for chunk in column.chunks]
        if not chunks:
            return cls(np.zeros(0, dtype=np.int64), pa.array([], pa.string()))
        dictionary = chunks[0].dictionary
        renumbered = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(dictionary))
        codes = np.concatenate([_integers(chunk.indices, len(dictionary)) for chunk in chunks])
        if len(renumbered.dictionary) < len(dictionary):
            recode = np.append(_integers(renumbered.indices, len(renumbered.dictionary)), len(renumbered.dictionary))
            codes = recode[codes]
        return cls(codes, renumbered.dictionary.cast(pa.string()))

    def take(self, codes: np.ndarray) -> pa.Array[Any]:
        """Values of ``codes`` (null for the null code)."""
        if self.size == 0:
            return pa.nulls(len(codes), pa.string())
        null = codes >= self.size
        return self.values.take(pa.array(np.where(null, 0, codes), pa.int64(), mask=null))

    def equals(self, value: str) -> np.ndarray:
        hits = np.flatnonzero(np.asarray(pc.equal(self.values, pa.scalar(value, pa.string())).fill_null(False)
                                         .to_numpy(zero_copy_only=False), dtype=bool))
        equal: np.ndarray = _scatter(self.size + 1, hits)[self.codes]
        return equal

    def translated(self, other: _Dictionary, *, null_matches: bool) -> np.ndarray:
        """Each row's code in ``other`` (-1 where its value is not there; a null row is other's null code if
        ``null_matches``, else -1)."""
        found = pc.index_in(self.values, value_set=other.values)
        table = np.append(np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64),
                          other.size if null_matches else -1)
        translated: np.ndarray = table[self.codes]
        return translated


class _Groups:
    """(tool, agent) of every row as one integer in a dense space: ``tool * (agents + 1) + agent``."""

    def __init__(self, tool: _Dictionary, agent: _Dictionary) -> None:
        self.tool, self.agent = tool, agent
        self.agent_code = np.arange((tool.size + 1) * (agent.size + 1)) % (agent.size + 1)
        self.codes = tool.codes * (agent.size + 1) + agent.codes
        self.size = (tool.size + 1) * (agent.size + 1)

    @classmethod
    def of(cls, tool: pa.ChunkedArray[Any], agent: pa.ChunkedArray[Any]) -> _Groups:
        return cls(_Dictionary.of(tool), _Dictionary.of(agent))

    def keys(self, groups: np.ndarray) -> tuple[pa.Array[Any], pa.Array[Any]]:
        tool, agent = np.divmod(groups, self.agent.size + 1)
        return self.tool.take(tool), self.agent.take(agent)


def _distinct_texts(column: pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """The distinct non-null values of a text column (without the per-row indices of a dictionary)."""
    if pa.types.is_dictionary(column.type) or column.null_count == len(column):
        return _Dictionary.of(column).values
    if column.null_count == 0 and _constant(column):
        return pa.array([column[0].as_py()], pa.string())
    return cast("pa.Array[Any]", pc.unique(column)).drop_null().cast(pa.string())


def _constant(column: pa.ChunkedArray[Any]) -> bool:
    """Whether every value (none null) equals the first; the first chunk that differs ends the search."""
    first = column[0]
    return all(bool(pc.all(pc.equal(chunk, first)).as_py()) for chunk in column.chunks if len(chunk))


def _fold(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``code`` refined by ``values`` (in ``range(size)``), renumbered first if int64 would overflow (order kept)."""
    size = max(size, 1)
    if len(code) and (int(code.max()) + 1) * size >= _CODE_LIMIT:
        code = np.unique(code, return_inverse=True)[1]
    folded: np.ndarray = code.astype(np.int64) * size + values.astype(np.int64)
    return folded


def _integers(indices: pa.Array[Any], null: int) -> np.ndarray:
    """Dictionary indices as int64, a null index as ``null``."""
    if indices.null_count:
        indices = pc.fill_null(indices, pa.scalar(null, indices.type))
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _valid(column: pa.ChunkedArray[Any]) -> np.ndarray:
    if column.null_count == 0:
        return np.ones(len(column), dtype=bool)
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _float64(column: pa.ChunkedArray[Any]) -> np.ndarray:
    """Numbers as float64 (nulls as 0: callers mask them)."""
    values: Any = column.cast(pa.float64())
    if values.null_count:
        values = values.fill_null(0.0)
    return np.asarray(values.to_numpy(), dtype=np.float64)


def _int64(column: pa.ChunkedArray[Any] | pa.Array[Any]) -> np.ndarray:
    """Timestamps as their integer count (nulls as 0: callers mask them)."""
    values: Any = column.cast(pa.int64())
    if values.null_count:
        values = values.fill_null(0)
    return np.asarray(values.to_numpy(), dtype=np.int64)
