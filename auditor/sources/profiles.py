"""Profile-driven parsers: one YAML file per vendor CSV/XLS/XLSX layout, no code (DESIGN §5).

Vendors publish no export specification and their layouts drift, so a profile finds its columns by
header synonyms (French and English, normalised), never by position, and builds each canonical field
from them: directly, from a date column plus a time column, from split YEAR/MONTH/DAY/HOUR/MINUTE
columns, as a time plus a duration, as the first non-empty of several columns, or several joined. The
format is documented in ``schemas/profile.schema.json`` and ``profiles/README.md``; every
``profiles/*.yaml`` is validated against the schema and registered as one parser at import.

Reading is compiled once per header: the cell index and converter of every column present and the
steps that build the canonical fields, so that the per-row work is a loop over converters.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from auditor import schemas
from auditor.errors import InputError
from auditor.io import csv_dialect, spreadsheet, values
from auditor.io.times import DEFAULT_ZONE, to_utc, zone
from auditor.rules import yamlsafe
from auditor.sources import registry
from auditor.sources.base import (
    BATCH_ROWS,
    BLOCKS_IN_FLIGHT,
    Head,
    ParseContext,
    Parser,
    Source,
    block_lines,
    bookkeeping,
    byte_blocks,
)
from auditor.sources.profiles_fast import FAST_TYPES, KIND_OF, FastNode, FastPlan, read_block, regular_offset

PROFILES_DIR = Path(__file__).with_name("profiles")
MAX_PREAMBLE = 20  # non-blank records before the header (title lines, sep=;) that are tolerated
SPREADSHEET_UNSURE = 0.35  # an XLSX/XLS too large for its head to show the header: let parse decide

_NON_WORD = re.compile(r"[\W_]+")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_DERIVED_OPS = ("column", "combine", "parts", "add_seconds", "first_of", "join", "const")
_PART_NAMES = ("year", "month", "day", "hour", "minute", "second")
_REJECT_CODES = {"integer": "row-number-invalid", "number": "row-number-invalid", "boolean": "row-malformed",
                 "datetime": "row-time-invalid", "date": "row-time-invalid", "time": "row-time-invalid",
                 "duration_s": "row-time-invalid"}


@lru_cache(maxsize=1 << 14)
def normalise(header: str) -> str:
    """Header as matched: case-folded, accents removed, punctuation/underscores/spaces collapsed (cached: every
    profile sniffs the same first lines of a file, and a year of daily logs is hundreds of files)."""
    text = unicodedata.normalize("NFKD", header.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


# --- the profile model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of the export, found by its header synonyms."""

    id: str
    headers: tuple[str, ...]
    type: str = "string"
    fmt: str | None = None
    required: bool = False
    mapping: Mapping[str, str] | None = None
    precision: int | None = None
    scale: float | None = None
    render: bool = True


@dataclass(frozen=True)
class Derived:
    """A value built from other columns or fields: ``op`` is one of ``_DERIVED_OPS``."""

    id: str
    op: str
    refs: tuple[str, ...] = ()
    sep: str = " "
    value: Any = None


Node = Column | Derived


class RowError(Exception):
    """A row-level problem found while building canonical fields (not a converter's ValueError)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class HeaderMatch:
    """How one header row matches a profile."""

    indexes: dict[str, int]
    unknown: list[str]
    missing: list[str]
    recognised: int
    total: int

    @property
    def share(self) -> float:
        return self.recognised / self.total if self.total else 0.0


@dataclass
class Profile:
    """A validated profile: its metadata, its nodes (columns then fields) and the synonym index."""

    name: str
    kind: str
    tool: str
    version: str
    title: dict[str, str]
    blind_spots: dict[str, str]
    patterns: tuple[str, ...]
    extensions: tuple[str, ...]
    encoding: str
    delimiter: str | None
    decimal: str | None
    dayfirst: bool | None
    timezone: str | None
    nodes: dict[str, Node]
    fields: tuple[str, ...]
    when_absent: dict[str, str]
    render_order: tuple[str, ...] = ()
    file: str = ""
    lookup: dict[str, str] = field(default_factory=dict)
    #: ``missing`` by the columns bound (sniffing matches the first lines of every file against every profile).
    _missing: dict[frozenset[str], tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def columns(self) -> list[Column]:
        return [n for n in self.nodes.values() if isinstance(n, Column)]

    @property
    def render_columns(self) -> list[Column]:
        """Columns render writes, in the tool's order."""
        order = {ref: i for i, ref in enumerate(self.render_order)}
        chosen = [c for c in self.columns if c.render]
        return sorted(chosen, key=lambda c: order.get(c.id, len(order)))

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    @property
    def schema_required(self) -> tuple[str, ...]:
        return tuple(n for n in schemas.get(self.kind).required if n not in schemas.BOOKKEEPING)

    def node_type(self, ref: str) -> str:
        """The value type a node yields (a column type, ``datetime`` or ``string``)."""
        node = self.nodes[ref]
        if isinstance(node, Column):
            return node.type
        if node.op in ("combine", "parts", "add_seconds"):
            return "datetime"
        if node.op in ("column", "first_of"):
            return self.node_type(node.refs[0])
        if node.op == "const":
            return {bool: "boolean", int: "integer", float: "number"}.get(type(node.value), "string")
        return "string"

    def resolvable(self, ref: str, bound: Mapping[str, int]) -> bool:
        """Whether ``ref`` can have a value given the columns present (``bound``)."""
        node = self.nodes[ref]
        if isinstance(node, Column):
            return node.id in bound
        if node.op == "const":
            return True
        if node.op == "column":
            return self.resolvable(node.refs[0], bound)
        if node.op == "combine":  # a datetime column may stand alone; a date needs its time
            day, clock = node.refs
            return self.resolvable(day, bound) and (self.node_type(day) == "datetime"
                                                    or self.resolvable(clock, bound))
        if node.op == "parts":
            return all(self.resolvable(r, bound) for r in node.refs[:3])
        if node.op == "add_seconds":
            return all(self.resolvable(r, bound) for r in node.refs)
        return any(self.resolvable(r, bound) for r in node.refs)

    def sources_of(self, ref: str) -> list[Column]:
        """Every column a node may read, for error messages."""
        node = self.nodes[ref]
        if isinstance(node, Column):
            return [node]
        return [c for r in node.refs if r for c in self.sources_of(r)]

    def match(self, cells: Sequence[str]) -> HeaderMatch:
        """Map header cells to columns; list unknown cells and what is missing."""
        indexes: dict[str, int] = {}
        unknown: list[str] = []
        total = 0
        for index, cell in enumerate(cells):
            name = cell.strip() if isinstance(cell, str) else values.cell_text(cell).strip()
            if not name:
                continue
            total += 1
            key = normalise(name)
            ref = self.lookup.get(key)
            if ref is None:
                ref = self.lookup.get(normalise(_BRACKETS.sub(" ", name)))
            if ref is None or ref in indexes:
                unknown.append(name)
            else:
                indexes[ref] = index
        bound = frozenset(indexes)
        missing = self._missing.get(bound)
        if missing is None:
            missing = self._missing[bound] = tuple(self.missing(indexes))
        return HeaderMatch(indexes, unknown, list(missing), len(indexes), total)

    def missing(self, bound: Mapping[str, int]) -> list[str]:
        """Required headers absent from ``bound``, and required fields that no present column can fill."""
        missing = [c.headers[0] for c in self.required_columns if c.id not in bound]
        for name in self.schema_required:
            if name in self.when_absent:
                continue
            if name not in self.nodes or not self.resolvable(name, bound):
                options = self.sources_of(name) if name in self.nodes else []
                label = " / ".join(dict.fromkeys(c.headers[0] for c in options)) or name
                if label not in missing:
                    missing.append(label)
        return missing


# --- loading --------------------------------------------------------------------------------------

def _node(ref: str, spec: Mapping[str, Any]) -> Node:
    if "headers" in spec:
        return Column(
            id=ref, headers=tuple(spec["headers"]), type=spec.get("type", "string"), fmt=spec.get("format"),
            required=bool(spec.get("required", False)), mapping=spec.get("map"),
            precision=spec.get("precision"), scale=spec.get("scale"), render=bool(spec.get("render", True)),
        )
    op = next(k for k in _DERIVED_OPS if k in spec)
    raw = spec[op]
    if op == "parts":
        refs = tuple(raw.get(p, "") for p in _PART_NAMES)
    elif op in ("column",):
        refs = (raw,)
    elif op == "const":
        refs = ()
    else:
        refs = tuple(raw)
    return Derived(id=ref, op=op, refs=refs, sep=spec.get("sep", " "), value=spec.get("const"))


_TEMPORAL_OK = {"datetime", "date"}
_CANONICAL_SOURCES = {
    schemas.TIME_TYPE: _TEMPORAL_OK,
    pa.float64(): {"number", "integer", "duration_s"},
    pa.int64(): {"integer", "number", "duration_s"},
    pa.bool_(): {"boolean"},
}


def _check(profile: Profile) -> list[str]:
    """Problems the JSON schema cannot see: unknown fields or refs, cycles, types, synonym clashes."""
    problems: list[str] = []
    schema = schemas.get(profile.kind)
    payload = [n for n in schema.names if n not in schemas.BOOKKEEPING]
    for name in profile.fields:
        if name not in payload:
            problems.append(f"fields/{name}: not a field of {profile.kind} ({', '.join(payload)})")
    for ref, node in profile.nodes.items():
        if ref not in profile.fields and ref in schema.names:
            problems.append(f"columns/{ref}: the id of a column cannot be a canonical field name")
        if isinstance(node, Derived):
            for target in node.refs:
                if target and target not in profile.nodes:
                    problems.append(f"{ref}: unknown column or field {target!r}")
        elif node.mapping and node.type != "string":
            problems.append(f"{ref}: 'map' is for string columns")
    if problems:
        return problems
    state: dict[str, int] = {}

    def visit(ref: str) -> None:
        if state.get(ref) == 2:
            return
        if state.get(ref) == 1:
            problems.append(f"{ref}: refers to itself through other columns")
            return
        state[ref] = 1
        node = profile.nodes[ref]
        if isinstance(node, Derived):
            for target in node.refs:
                if target:
                    visit(target)
        state[ref] = 2

    for ref in profile.nodes:
        visit(ref)
    if problems:
        return problems
    for ref, node in profile.nodes.items():
        if isinstance(node, Derived) and node.op == "combine":
            if profile.node_type(node.refs[0]) not in ("date", "datetime"):
                problems.append(f"{ref}: combine needs a date column first")
            if profile.node_type(node.refs[1]) not in ("time", "datetime"):
                problems.append(f"{ref}: combine needs a time column second")
        if isinstance(node, Derived) and node.op == "parts":
            for target in node.refs:
                if target and profile.node_type(target) not in ("integer", "number"):
                    problems.append(f"{ref}: parts must be integer columns ({target})")
        if isinstance(node, Derived) and node.op == "add_seconds":
            if profile.node_type(node.refs[0]) != "datetime":
                problems.append(f"{ref}: add_seconds needs a datetime first")
            if profile.node_type(node.refs[1]) not in ("integer", "number", "duration_s"):
                problems.append(f"{ref}: add_seconds needs seconds second")
    for name in profile.fields:
        arrow = schema.field(name).arrow_type
        allowed = _CANONICAL_SOURCES.get(arrow)
        if allowed is not None and profile.node_type(name) not in allowed:
            problems.append(f"fields/{name}: a {profile.node_type(name)} cannot fill a {arrow} field")
    for name in profile.when_absent:
        if name not in payload:
            problems.append(f"when_absent/{name}: not a field of {profile.kind}")
    for ref in profile.render_order:
        if not isinstance(profile.nodes.get(ref), Column):
            problems.append(f"render_order/{ref}: not a column")
    for name in profile.schema_required:
        if name not in profile.fields and name not in profile.when_absent:
            problems.append(f"fields/{name}: required by {profile.kind} but not read")
    for column in profile.columns:
        for header in column.headers:
            key = normalise(header)
            other = profile.lookup.setdefault(key, column.id)
            if other != column.id:
                problems.append(f"{column.id}: header {header!r} is also a synonym of {other}")
    return problems


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return yamlsafe.load_schema("profile.schema.json")


def profile_from_data(data: Any, file: str = "<profile>", text: str = "") -> Profile:
    """A Profile from parsed YAML; raises ``yamlsafe.DocumentError`` listing every problem."""
    problems = yamlsafe.schema_problems(data, _schema(), file, text)
    if problems:
        raise yamlsafe.DocumentError(problems)
    nodes: dict[str, Node] = {}
    for ref, spec in (data.get("columns") or {}).items():
        nodes[ref] = _node(ref, spec)
    for ref, spec in data["fields"].items():
        nodes[ref] = _node(ref, spec)
    profile = Profile(
        name=data["name"], kind=data["kind"], tool=data["tool"], version=str(data.get("version", "1")),
        title=dict(data["title"]), blind_spots=dict(data["blind_spots"]),
        patterns=tuple(p.lower() for p in data.get("patterns", ())),
        extensions=tuple(data.get("extensions", ("csv", "xlsx", "xls"))),
        encoding=data.get("encoding", "utf-8"), delimiter=data.get("delimiter"), decimal=data.get("decimal"),
        dayfirst=data.get("dayfirst"), timezone=data.get("timezone"), nodes=nodes,
        fields=tuple(data["fields"]), when_absent=dict(data.get("when_absent") or {}),
        render_order=tuple(data.get("render_order", ())), file=file,
    )
    problems = [yamlsafe.Problem(file, None, message) for message in _check(profile)]
    if problems:
        raise yamlsafe.DocumentError(problems)
    return profile


def load_profile(path: Path) -> Profile:
    data, problems = yamlsafe.load_file(path)
    if problems:
        raise yamlsafe.DocumentError(problems)
    return profile_from_data(data, str(path), path.read_text(encoding="utf-8"))


# --- reading plans --------------------------------------------------------------------------------

Env = dict[str, Any]
Step = Callable[[Env], None]


@dataclass
class RowPlan:
    """What to do with every row under one header: converters by cell index, then building steps."""

    sources: list[tuple[int, Callable[[Any], Any], str]]
    steps: list[Step]
    width: int
    required: tuple[str, ...]
    rename: dict[str, str] = field(default_factory=dict)  # column id -> the field it writes directly
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # env key -> (header text, reject code)

    def failed(self, env: Env, cells: Sequence[Any], error: Exception) -> tuple[str, dict[str, Any]]:
        """Reject code and parameters for the converter that raised: the first one not in ``env``."""
        for index, _, ref in self.sources:
            if ref not in env:
                header, code = self.meta[ref]
                value = values.cell_text(cells[index])[:200]
                params: dict[str, Any] = {"field": header, "value": value}
                if code == "row-malformed":
                    params["detail"] = f"{header}: {value}"
                return code, params
        return "row-malformed", {"detail": str(error)[:200]}  # pragma: no cover - steps raise RowError


def _clock(profile: Profile, ctx: ParseContext) -> Callable[[datetime], datetime | None]:
    """Naive or aware → aware UTC by the canonical rules (``ctx.time``), with a per-hour cache.

    The canonical conversion costs ~15 µs; for a naive time in an hour where the zone's offset is the
    same on both folds from start to end and no sentinel is near, ``ctx.time`` gives exactly
    ``naive - offset``, so that offset is computed once per hour and reused. Every other time (aware,
    DST-edge hours, sentinels) goes through ``ctx.time`` (or ``to_utc`` in the profile's zone).
    """
    counts = ctx.counts
    if profile.timezone:
        tz: tzinfo = zone(profile.timezone)

        def slow(value: datetime) -> datetime | None:
            if value.tzinfo is None:
                counts["timezone-missing"] += 1
            return to_utc(value, tz, counts)
    else:
        tz = ctx.tz
        slow = ctx.time
    offsets: dict[int, timedelta | None] = {}

    def clock(value: datetime) -> datetime | None:
        if value.tzinfo is not None:
            return slow(value)
        key = value.toordinal() * 24 + value.hour
        try:
            offset = offsets[key]
        except KeyError:
            offset = offsets[key] = regular_offset(value, tz)
        if offset is None:
            return slow(value)
        counts["timezone-missing"] += 1
        return (value - offset).replace(tzinfo=UTC)
    return clock


def _text_of(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _derived_step(profile: Profile, node: Derived, bound: Mapping[str, int]) -> Step:
    out = node.id
    if node.op == "column":
        ref = node.refs[0]

        def alias(env: Env) -> None:
            env[out] = env.get(ref)
        return alias
    if node.op == "const":
        constant = node.value

        def const(env: Env) -> None:
            env[out] = constant
        return const
    if node.op == "combine":
        day_ref, clock_ref = node.refs
        day_is_datetime = profile.node_type(day_ref) == "datetime"
        clock_is_datetime = profile.node_type(clock_ref) == "datetime"
        has_clock = profile.resolvable(clock_ref, bound)

        def combine(env: Env) -> None:
            day = env.get(day_ref)
            if day is None:
                env[out] = None
                return
            if not has_clock:  # only a datetime column may stand alone (see Profile.resolvable)
                env[out] = day
                return
            clock = env.get(clock_ref)
            if clock is None:
                env[out] = None
                return
            env[out] = datetime.combine(day.date() if day_is_datetime else day,
                                        clock.time() if clock_is_datetime else clock)
        return combine
    if node.op == "parts":
        refs = tuple(r if r and profile.resolvable(r, bound) else "" for r in node.refs)
        y_ref, mo_ref, d_ref, h_ref, mi_ref, s_ref = refs
        label = "/".join(profile.sources_of(r)[0].headers[0] for r in refs if r)

        def parts(env: Env) -> None:
            year, month, day = env.get(y_ref), env.get(mo_ref), env.get(d_ref)
            if year is None or month is None or day is None:
                env[out] = None
                return
            hour, minute, second = env.get(h_ref) or 0, env.get(mi_ref) or 0, env.get(s_ref) or 0
            try:
                env[out] = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
            except (ValueError, OverflowError):
                raise RowError("row-time-invalid", field=label,
                               value=f"{year}-{month}-{day} {hour}:{minute}:{second}") from None
        return parts
    if node.op == "add_seconds":
        base_ref, seconds_ref = node.refs

        def add_seconds(env: Env) -> None:
            base, seconds = env.get(base_ref), env.get(seconds_ref)
            if base is None or seconds is None:
                env[out] = None
                return
            try:
                env[out] = base + timedelta(seconds=seconds)
            except (ValueError, OverflowError):
                raise RowError("row-time-invalid", field=out, value=f"{base} + {seconds} s") from None
        return add_seconds
    refs = tuple(r for r in node.refs if profile.resolvable(r, bound))
    if node.op == "first_of":
        def first_of(env: Env) -> None:
            for ref in refs:
                value = env.get(ref)
                if value is not None and value != "":
                    env[out] = value
                    return
            env[out] = None
        return first_of
    sep = node.sep

    def join(env: Env) -> None:
        parts = [_text_of(v) for v in (env.get(r) for r in refs) if v is not None and v != ""]
        env[out] = sep.join(parts) if parts else None
    return join


def _finish_step(profile: Profile, name: str, clock: Callable[[datetime], datetime | None]) -> Step | None:
    """The conversion of a node value into the canonical field's type (None when nothing to do)."""
    arrow = schemas.get(profile.kind).field(name).arrow_type
    source = profile.node_type(name)
    if arrow == schemas.TIME_TYPE:
        from_date = source == "date"

        def to_instant(env: Env) -> None:
            value = env.get(name)
            if value is not None:
                try:
                    env[name] = clock(datetime.combine(value, time()) if from_date else value)
                except (ValueError, OverflowError):  # out of the representable range once in UTC
                    raise RowError("row-time-invalid", field=name, value=str(value)) from None
        return to_instant
    if arrow == pa.float64() and source == "integer":
        def to_float(env: Env) -> None:
            value = env.get(name)
            if value is not None:
                env[name] = float(value)
        return to_float
    if arrow == pa.int64() and source != "integer":
        def to_int(env: Env) -> None:
            value = env.get(name)
            if value is not None:
                if not float(value).is_integer():
                    raise RowError("row-number-invalid", field=name, value=str(value))
                env[name] = int(value)
        return to_int
    if arrow == pa.string() and source != "string":
        def to_text(env: Env) -> None:
            value = env.get(name)
            if value is not None:
                env[name] = _text_of(value)
        return to_text
    return None


def _check_coordinates(env: Env) -> None:
    lat, lon = env.get("lat"), env.get("lon")
    if (lat is not None and not -90.0 <= lat <= 90.0) or (lon is not None and not -180.0 <= lon <= 180.0):
        raise RowError("row-coordinates-invalid", value=f"{lat}, {lon}")


def _scaled(convert: Callable[[Any], Any], factor: float) -> Callable[[Any], Any]:
    def scaled(cell: Any) -> Any:
        value = convert(cell)
        return None if value is None else value * factor
    return scaled


def compile_plan(profile: Profile, match: HeaderMatch, *, decimal: str, dayfirst: bool, typed_cells: bool,
                 clock: Callable[[datetime], datetime | None], agent_hint: str, width: int) -> RowPlan:
    """The converters and steps for rows under the header described by ``match``."""
    bound = match.indexes
    rename, done = _shortcuts(profile, bound)
    sources: list[tuple[int, Callable[[Any], Any], str]] = []
    meta: dict[str, tuple[str, str]] = {}
    for column in profile.columns:
        if column.id not in bound:
            continue
        convert: Callable[[Any], Any] = values.converter(
            column.type, decimal=decimal, dayfirst=dayfirst, fmt=column.fmt, mapping=dict(column.mapping or {}))
        if typed_cells:
            convert = values.cell_converter(column.type, convert)
        if column.scale is not None:
            convert = _scaled(convert, column.scale)
        key = rename.get(column.id, column.id)
        sources.append((bound[column.id], convert, key))
        meta[key] = ("", _REJECT_CODES.get(column.type, "row-malformed"))
    steps: list[Step] = []

    def emit(ref: str) -> None:
        if not ref or not profile.resolvable(ref, bound):
            return
        if ref in done:
            if ref in rename.values() and ref not in finished:  # a field read straight from its column
                finished.add(ref)
                finish = _finish_step(profile, ref, clock)
                if finish is not None:
                    steps.append(finish)
            return
        done.add(ref)
        finished.add(ref)
        node = profile.nodes[ref]
        if isinstance(node, Derived):
            for target in node.refs:
                emit(target)
            steps.append(_derived_step(profile, node, bound))
        if ref in profile.fields:
            finish = _finish_step(profile, ref, clock)
            if finish is not None:
                steps.append(finish)

    finished: set[str] = set()
    produced = set()
    for name in profile.fields:
        emit(name)
        if name in done:
            produced.add(name)
    for name, fallback in profile.when_absent.items():
        if name not in produced and fallback == "agent_hint":
            hint = agent_hint

            def use_hint(env: Env, name: str = name, hint: str = hint) -> None:
                env[name] = hint
            steps.append(use_hint)
            produced.add(name)
    if {"lat", "lon"} <= produced:
        steps.append(_check_coordinates)
    required = tuple(n for n in profile.schema_required if n in produced)
    return RowPlan(sources, steps, width, required, rename, meta)


def _single_source(profile: Profile, ref: str, bound: Mapping[str, int]) -> list[str] | None:
    """The chain of nodes from ``ref`` down to the one column it reduces to under this header, if any."""
    node = profile.nodes[ref]
    if isinstance(node, Column):
        return [ref] if ref in bound else None
    live = [r for r in node.refs if r and profile.resolvable(r, bound)]
    if node.op not in ("column", "first_of") or len(live) != 1:
        return None
    rest = _single_source(profile, live[0], bound)
    return [ref, *rest] if rest else None


def _shortcuts(profile: Profile, bound: Mapping[str, int]) -> tuple[dict[str, str], set[str]]:
    """Fields that are one column under this header: the converter then writes the field directly.

    Returns ``{column id: field}`` and the nodes that need no step. Only chains whose intermediate
    nodes and column are used by nothing else qualify, so no other step misses a value.
    """
    uses: dict[str, int] = {}
    for node in profile.nodes.values():
        if isinstance(node, Derived):
            for target in node.refs:
                if target:
                    uses[target] = uses.get(target, 0) + 1
    rename: dict[str, str] = {}
    skipped: set[str] = set()
    for name in profile.fields:
        chain = _single_source(profile, name, bound)
        if not chain or len(chain) < 2:
            continue
        if any(uses.get(r, 0) != 1 or (r in profile.fields) for r in chain[1:]):
            continue
        rename[chain[-1]] = name
        skipped.update(chain)
    return rename, skipped


def _with_headers(plan: RowPlan, cells: Sequence[Any]) -> RowPlan:
    """Attach the header text of each column (what rejects name) to the plan."""
    meta = {ref: (values.cell_text(cells[i]).strip(), plan.meta[ref][1]) for i, _, ref in plan.sources}
    return RowPlan(plan.sources, plan.steps, plan.width, plan.required, plan.rename, meta)


# --- sniffing helpers -----------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _csv_sample(text: str, complete: bool, prefer: str | None) -> tuple[csv_dialect.Dialect,
                                                                       tuple[tuple[int, tuple[str, ...]], ...]]:
    dialect = csv_dialect.sniff(text, complete=complete, prefer=prefer)
    records = csv_dialect.records(text, dialect, complete, limit=MAX_PREAMBLE * 4)
    return dialect, tuple((line, tuple(cells)) for line, cells in records[:MAX_PREAMBLE])


@lru_cache(maxsize=4)
def _normalised_strings(raw: bytes) -> frozenset[str]:
    found = set()
    for text in spreadsheet.head_strings(raw):
        found.add(normalise(text))
        found.add(normalise(_BRACKETS.sub(" ", text)))
    return frozenset(found)


@lru_cache(maxsize=4)
def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if c < " " and c not in "\r\n\t\f")
    return controls > len(sample) // 100 + 1


# --- the parser -----------------------------------------------------------------------------------

class ProfileParser(Parser):
    """A parser whose layout comes from a profile; one subclass per profile (see ``make_parser``)."""

    profile: ClassVar[Profile]
    #: Read blocks of plain lines with pyarrow (profiles_fast.py); tests turn it off to compare both paths.
    vectorised: ClassVar[bool] = True

    # -- sniff --
    def sniff(self, head: Head) -> float:
        kind = spreadsheet.workbook_kind(head.raw)
        if kind is not None:
            return self._sniff_workbook(head, kind)
        if "csv" not in self.profile.extensions:
            return 0.0
        text = head.text
        if not text.strip() or _looks_binary(text):
            return 0.0
        _, records = _csv_sample(text, head.complete, self.profile.delimiter)
        for _, cells in records:
            match = self.profile.match(cells)
            if not match.missing:
                return 0.5 + 0.5 * match.share
        return 0.0

    def _sniff_workbook(self, head: Head, kind: str) -> float:
        if kind not in self.profile.extensions:
            return 0.0
        if head.complete:
            sheets = spreadsheet.head_rows(head.raw)
            if sheets is None:
                return 0.0
            for rows in sheets:
                for _, cells in rows[:MAX_PREAMBLE]:
                    match = self.profile.match(cells)
                    if not match.missing:
                        return 0.5 + 0.5 * match.share
            return 0.0
        strings = _normalised_strings(head.raw)
        if not strings:
            return SPREADSHEET_UNSURE
        found = {ref: 0 for key, ref in self.profile.lookup.items() if key in strings}
        if self.profile.missing(found):
            return 0.0
        return 0.5 + 0.4 * len(found) / max(1, len(self.profile.columns))

    # -- parse --
    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        kind = spreadsheet.workbook_kind(source.head.raw)
        if kind is not None:
            yield from self._parse_workbook(source, ctx)
        else:
            yield from self._parse_csv(source, ctx)

    def _dialect(self, head: Head) -> csv_dialect.Dialect:
        dialect, _ = _csv_sample(head.text, head.complete, self.profile.delimiter)
        decimal, dayfirst = dialect.decimal, dialect.dayfirst
        if self.profile.decimal and self.profile.decimal != dialect.delimiter:
            decimal = self.profile.decimal
        if self.profile.dayfirst is not None:
            dayfirst = self.profile.dayfirst
        return csv_dialect.Dialect(dialect.delimiter, dialect.quotechar, decimal, dayfirst, dialect.preamble,
                                   dialect.header_line)

    def _unmapped(self, file: str, likeliest: tuple[int, Sequence[Any], HeaderMatch] | None) -> InputError:
        """No header: none at all, or the record most like one, with what it lacks."""
        if likeliest is None:
            return InputError("csv-header-missing", file)
        line, cells, match = likeliest
        header = ", ".join(values.cell_text(c).strip() for c in cells if values.cell_text(c).strip())
        return InputError("csv-header-unmapped", file, line, fields=", ".join(match.missing), header=header[:300])

    def _plan(self, ctx: ParseContext, match: HeaderMatch, cells: Sequence[Any], *, decimal: str,
              dayfirst: bool, typed: bool) -> RowPlan:
        if match.unknown:
            ctx.warn("header-unknown-columns", len(match.unknown))
            ctx.notes["unknown_columns"] = list(match.unknown)
        plan = compile_plan(self.profile, match, decimal=decimal, dayfirst=dayfirst, typed_cells=typed,
                            clock=_clock(self.profile, ctx), agent_hint=ctx.agent_hint, width=len(cells))
        if self.profile.timezone:
            ctx.notes["timezone"] = self.profile.timezone
        return _with_headers(plan, cells)

    def _parse_csv(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        dialect = self._dialect(source.head)
        lines = source.physical_lines(ctx)
        for _ in range(dialect.preamble):
            next(lines, None)
        offset = dialect.preamble
        reader = dialect.reader(lines)
        last = 0
        try:
            likeliest: tuple[int, Sequence[Any], HeaderMatch] | None = None
            header: tuple[int, list[str], HeaderMatch] | None = None
            seen = 0
            for cells in reader:
                start, last = last + 1, reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                match = self.profile.match(cells)
                if likeliest is None or match.recognised > likeliest[2].recognised:
                    likeliest = (offset + start, cells, match)
                if not match.missing:
                    header = (offset + start, cells, match)
                    break
                seen += 1
                if seen >= MAX_PREAMBLE:
                    break
            if header is None:
                raise self._unmapped(source.name, likeliest)
            ctx.notes["header_line"] = header[0]
            ctx.notes["dialect"] = {"delimiter": dialect.delimiter, "decimal": dialect.decimal,
                                    "dayfirst": dialect.dayfirst}
            plan = self._plan(ctx, header[2], header[1], decimal=dialect.decimal, dayfirst=dialect.dayfirst,
                              typed=False)
        except csv.Error as error:
            raise InputError("line-too-long", source.name, offset + last + 1, limit=csv.field_size_limit(),
                             detail=str(error)) from None
        builder = ctx.builder(self.kind)
        fast = self._fast_plan(plan, dialect, source, ctx)
        if fast is None:
            yield from self._rows(reader, offset, last, plan, ctx, dialect, source.name, builder)
            yield from builder.finish()
            return
        getattr(lines, "close", lambda: None)()  # the row reader's file: blocks reopen it
        yield from self._blocks(source, ctx, plan, fast, dialect, offset + reader.line_num)

    def _fast_plan(self, plan: RowPlan, dialect: csv_dialect.Dialect, source: Source,
                   ctx: ParseContext) -> FastPlan | None:
        """The vectorised reading of this file (profiles_fast.py), or None when only the row path fits."""
        head = source.head.raw
        utf8 = source.encoding.name.replace("_", "-").lower() in ("utf-8", "ascii")
        if not self.vectorised or (not utf8 or dialect.quotechar != '"'
                or len(dialect.delimiter) != 1 or not dialect.delimiter.isascii() or dialect.delimiter in ' "'
                or head.count(b"\r") != head.count(b"\r\n")):
            return None
        nodes = _fast_nodes(self.profile, plan_bound(plan))
        if nodes is None:
            return None
        produced = {n.id for n in nodes if n.finish}
        constants = tuple((name, ctx.agent_hint) for name, fallback in self.profile.when_absent.items()
                          if name not in produced and fallback == "agent_hint")
        return FastPlan(
            width=plan.width, delimiter=dialect.delimiter, decimal=dialect.decimal, dayfirst=dialect.dayfirst,
            nodes=nodes, fields=tuple(n.id for n in nodes if n.finish), constants=constants,
            required=plan.required, coordinates={"lat", "lon"} <= produced | {name for name, _ in constants},
            tz=zone(self.profile.timezone) if self.profile.timezone else ctx.tz,
        )

    def _blocks(self, source: Source, ctx: ParseContext, plan: RowPlan, fast: FastPlan,
                dialect: csv_dialect.Dialect, header_end: int) -> Iterator[pa.RecordBatch]:
        """Blocks of lines after the header: vectorised when ``read_block`` accepts them, else row by row.

        Two blocks are converted at once (pyarrow and numpy release the GIL); results are taken in file order.
        """
        builder = ctx.builder(self.kind)
        base = header_end
        with source.open_binary() as binary, ThreadPoolExecutor(max_workers=2) as pool:
            binary.seek(source.encoding.bom_length)
            blocks = _after_lines(byte_blocks(binary), header_end)
            queue: deque[tuple[bytes, Future[Any]]] = deque()
            while True:
                for block in itertools.islice(blocks, BLOCKS_IN_FLIGHT - len(queue)):
                    queue.append((block, pool.submit(read_block, block, fast)))
                if not queue:
                    break
                block, future = queue.popleft()
                result = future.result()
                # a quoted value may hold a line end across blocks: rows to the end (read_block turns down
                # every block with a quote, so only a block it turned down is searched for one)
                if result is None and b'"' in block:
                    waiting = [b for b, _ in queue]
                    queue.clear()
                    rest = itertools.chain([block], waiting, blocks)
                    lines = _numbered_blocks(rest, source, ctx, base + 1)
                    yield from self._rows(dialect.reader(lines), base, 0, plan, ctx, dialect, source.name, builder)
                    break
                if result is None:
                    counted = _Counted(block_lines(block, source.encoding, source.name, ctx, first=base + 1))
                    yield from self._rows(dialect.reader(counted), base, 0, plan, ctx, dialect, source.name,
                                          builder)
                    base += counted.count
                    continue
                yield from builder.finish()  # rows of earlier blocks first: the order of the file
                columns, naive = result
                table = bookkeeping(self.kind, columns, self.tool, ctx.file, base + 1)
                ctx.rows_in += table.num_rows
                ctx.rows_parsed += table.num_rows
                if naive:
                    ctx.counts["timezone-missing"] += naive
                base += table.num_rows
                yield from table.to_batches(BATCH_ROWS)
        yield from builder.finish()

    def _rows(self, reader: Any, offset: int, last: int, plan: RowPlan, ctx: ParseContext,
              dialect: csv_dialect.Dialect, name: str, builder: Any = None) -> Iterator[pa.RecordBatch]:
        """The row path: records of ``reader`` (physical line numbers start after ``offset``)."""
        builder = builder or ctx.builder(self.kind)
        width, sources, steps, required = plan.width, plan.sources, plan.steps, plan.required
        add, reject, delimiter = builder.add, ctx.reject, dialect.delimiter
        try:
            for cells in reader:
                row = offset + last + 1
                last = reader.line_num
                if len(cells) != width:
                    if not any(c.strip() for c in cells):
                        continue  # a blank line, or one of delimiters only, is not a record
                    if len(cells) < width or any(c.strip() for c in cells[width:]):
                        ctx.rows_in += 1
                        reject(row, "row-field-count", delimiter.join(cells), found=len(cells), expected=width)
                        continue
                elif not cells[0] and not any(cells):
                    continue
                ctx.rows_in += 1
                env: Env = {}
                try:
                    for index, convert, ref in sources:
                        env[ref] = convert(cells[index])
                    for step in steps:
                        step(env)
                except (ValueError, OverflowError) as error:
                    code, params = plan.failed(env, cells, error)
                    reject(row, code, delimiter.join(cells), **params)
                    continue
                except RowError as error:
                    reject(row, error.code, delimiter.join(cells), **error.params)
                    continue
                for field_name in required:
                    if env.get(field_name) is None:
                        reject(row, "row-required-missing", delimiter.join(cells), field=field_name)
                        break
                else:
                    batch = add(row, env)
                    if batch is not None:
                        yield batch
        except csv.Error as error:
            raise InputError("line-too-long", name, offset + last + 1, limit=csv.field_size_limit(),
                             detail=str(error)) from None

    def _parse_workbook(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        with source.open_binary() as binary:
            workbook = spreadsheet.open_workbook(binary, source.name)
        likeliest: tuple[int, Sequence[Any], HeaderMatch] | None = None
        for sheet, rows in spreadsheet.sheets(workbook, source.name):
            seen = 0
            header: tuple[int, list[Any], HeaderMatch] | None = None
            for number, cells in rows:
                if not any(values.cell_text(c).strip() for c in cells):
                    continue
                match = self.profile.match(cells)
                if likeliest is None or match.recognised > likeliest[2].recognised:
                    likeliest = (number, cells, match)
                if not match.missing:
                    header = (number, cells, match)
                    break
                seen += 1
                if seen >= MAX_PREAMBLE:
                    break
            if header is None:
                continue
            ctx.notes["sheet"] = sheet
            ctx.notes["header_line"] = header[0]
            decimal, dayfirst = ",", self.profile.dayfirst if self.profile.dayfirst is not None else True
            plan = self._plan(ctx, header[2], header[1], decimal=self.profile.decimal or decimal,
                              dayfirst=dayfirst, typed=True)
            yield from self._workbook_rows(rows, plan, ctx)
            return
        raise self._unmapped(source.name, likeliest)

    def _workbook_rows(self, rows: Iterator[tuple[int, list[Any]]], plan: RowPlan,
                       ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        width, sources, steps, required = plan.width, plan.sources, plan.steps, plan.required
        for number, cells in rows:
            if not any(c != "" and c is not None for c in cells):
                continue
            ctx.rows_in += 1
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            env: Env = {}
            try:
                for index, convert, ref in sources:
                    env[ref] = convert(cells[index])
                for step in steps:
                    step(env)
            except (ValueError, OverflowError) as error:
                code, params = plan.failed(env, cells, error)
                ctx.reject(number, code, _row_text(cells), **params)
                continue
            except RowError as error:
                ctx.reject(number, error.code, _row_text(cells), **error.params)
                continue
            missing = next((n for n in required if env.get(n) is None), None)
            if missing is not None:
                ctx.reject(number, "row-required-missing", _row_text(cells), field=missing)
                continue
            batch = builder.add(number, env)
            if batch is not None:
                yield batch
        yield from builder.finish()

    # -- render --
    def _zone(self) -> tzinfo:
        return zone(self.profile.timezone or DEFAULT_ZONE)

    def render_delimiter(self) -> str:
        return self.profile.delimiter or ";"

    def render_decimal(self) -> str:
        if self.profile.decimal:
            return self.profile.decimal
        return "." if self.render_delimiter() == "," else ","

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        columns = self.profile.render_columns
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.render_delimiter(), quotechar='"', lineterminator="\r\n",
                            quoting=csv.QUOTE_MINIMAL)
        writer.writerow([c.headers[0] for c in columns])
        tz = self._zone()
        decimal = self.render_decimal()
        for row in rows:
            out: dict[str, Any] = {}
            for name in self.profile.fields:
                value = row.get(name)
                if value is not None and value != "":
                    self._assign(name, value, out, tz)
            writer.writerow([values.format_value(c.type, out.get(c.id), fmt=c.fmt, decimal=decimal,
                                                 precision=c.precision, mapping=c.mapping) for c in columns])
        return buffer.getvalue().encode(self.profile.encoding, errors="replace")

    def _assign(self, ref: str, value: Any, out: dict[str, Any], tz: tzinfo) -> None:
        """Write a canonical value back into the columns it was read from (first writer wins)."""
        node = self.profile.nodes[ref]
        if isinstance(node, Column):
            if node.id not in out:
                out[node.id] = _column_value(node, value, tz)
            return
        if node.op in ("column", "first_of"):
            self._assign(node.refs[0], value, out, tz)
        elif node.op == "combine":
            local = _local(value, tz)
            self._assign(node.refs[0], local if self.profile.node_type(node.refs[0]) == "datetime"
                         else local.date(), out, tz)
            self._assign(node.refs[1], local.time() if self.profile.node_type(node.refs[1]) == "time"
                         else local, out, tz)
        elif node.op == "parts":
            local = _local(value, tz)
            for part, target in zip(_PART_NAMES, node.refs, strict=True):
                if target:
                    self._assign(target, getattr(local, part), out, tz)
        elif node.op == "join":
            pieces = str(value).split(node.sep, len(node.refs) - 1)
            for target, piece in zip(node.refs, pieces, strict=False):
                self._assign(target, piece, out, tz)

    def render_targets(self) -> set[str]:
        """Columns that render writes (what a round trip can carry)."""
        found: set[str] = set()

        def walk(ref: str) -> None:
            node = self.profile.nodes[ref]
            if isinstance(node, Column):
                if node.render:
                    found.add(node.id)
            elif node.op in ("column", "first_of"):
                walk(node.refs[0])
            elif node.op in ("combine", "parts", "join"):
                for target in node.refs:
                    if target:
                        walk(target)

        for name in self.profile.fields:
            walk(name)
        return found

    def row_strategy(self) -> Any:
        return _row_strategy(self)

    def evaluate(self, columns: Mapping[str, Any]) -> dict[str, Any] | None:
        """Canonical row from typed column values, as parsing would build it (None if rejected)."""
        plan: RowPlan | None = getattr(self, "_synthetic_plan", None)
        if plan is None:
            match = HeaderMatch({c.id: i for i, c in enumerate(self.profile.columns)}, [], [],
                                len(self.profile.columns), len(self.profile.columns))
            ctx = ParseContext(file="synthetic", tool=self.tool, tz=self._zone(), agent_hint="agent")
            plan = compile_plan(self.profile, match, decimal=self.render_decimal(), dayfirst=True,
                                typed_cells=False, clock=_clock(self.profile, ctx), agent_hint="agent",
                                width=len(self.profile.columns))
            self._synthetic_plan = plan
        env: Env = {plan.rename.get(k, k): v for k, v in columns.items()}
        try:
            for step in plan.steps:
                step(env)
        except RowError:
            return None
        if any(env.get(n) is None for n in plan.required):
            return None
        return {name: env.get(name) for name in self.profile.fields}


def _after_lines(blocks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    """``blocks`` without their first ``skip`` lines (the preamble and header, already read)."""
    for block in blocks:
        while skip and block:
            end = block.find(b"\n")
            block = block[end + 1:] if end >= 0 else b""
            skip -= 1
        if block:
            yield block


def _numbered_blocks(blocks: Iterable[bytes], source: Source, ctx: ParseContext, first: int) -> Iterator[str]:
    """The lines of consecutive blocks, each block told the file line its first line has."""
    for block in blocks:
        counted = _Counted(block_lines(block, source.encoding, source.name, ctx, first=first))
        yield from counted
        first += counted.count


class _Counted:
    """An iterator that counts what it hands out (physical lines of a block read row by row)."""

    def __init__(self, items: Iterator[str]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            self.count += 1
            yield item


def plan_bound(plan: RowPlan) -> dict[str, int]:
    """Column ids present under the plan's header (the ``bound`` of ``Profile.resolvable``)."""
    inverse = {f: c for c, f in plan.rename.items()}
    return {inverse.get(ref, ref): index for index, _, ref in plan.sources}


_FINISH = {schemas.TIME_TYPE: "time", pa.float64(): "float", pa.int64(): "int", pa.string(): "text"}
#: The kinds a finished field may come from, and the kind it then has.
_FINISHED = {"time": ({"local", "utc"}, "utc"), "float": ({"int", "float"}, "float"),
             "int": ({"int", "float"}, "int"), "text": ({"text"}, "text")}


def _fast_nodes(profile: Profile, bound: Mapping[str, int]) -> tuple[FastNode, ...] | None:
    """The profile's values for one header as block-wide nodes (profiles_fast.py), in the row path's order.

    Every column present is read and checked (the row path converts them all, used or not); then every
    field the header can produce, its inputs first, each finished into its canonical type at once, as
    ``compile_plan`` emits the steps. None if a column type, an op or a conversion has no vectorised form.
    """
    schema = schemas.get(profile.kind)
    nodes: dict[str, FastNode] = {}
    kinds: dict[str, str] = {}
    for column in profile.columns:
        if column.id not in bound:
            continue
        if (column.type not in FAST_TYPES or column.mapping or column.fmt in ("epoch", "epoch_ms")
                or (column.scale is not None and column.type != "number")):
            return None
        nodes[column.id] = FastNode(column.id, "cell", index=bound[column.id], type=column.type,
                                    scale=column.scale)
        kinds[column.id] = KIND_OF[column.type]

    def visit(ref: str) -> bool:
        if ref in kinds and (ref not in profile.fields or nodes[ref].finish):
            return True
        node = profile.nodes[ref]
        if isinstance(node, Derived):
            derived = _fast_derived(profile, node, bound, kinds, visit)
            if derived is None:
                return False
            nodes[ref], kinds[ref] = derived
        if ref in profile.fields:
            finish = _FINISH.get(schema.field(ref).arrow_type)
            if finish is None or kinds[ref] not in _FINISHED[finish][0] or profile.node_type(ref) == "date":
                return False
            nodes[ref] = replace(nodes[ref], finish=finish)
            kinds[ref] = _FINISHED[finish][1]
        return True

    for name in profile.fields:
        if profile.resolvable(name, bound) and not visit(name):
            return None
    return tuple(nodes.values())


def _fast_derived(profile: Profile, node: Derived, bound: Mapping[str, int], kinds: dict[str, str],
                  visit: Callable[[str], bool]) -> tuple[FastNode, str] | None:
    """The block-wide node of a derived value and its kind, or None without a vectorised form."""
    if node.op == "const":
        return (FastNode(node.id, "const", text=node.value), "text") if isinstance(node.value, str) else None
    if node.op == "parts":
        refs = tuple(r if r and profile.resolvable(r, bound) else "" for r in node.refs)
    else:
        refs = tuple(r for r in node.refs if profile.resolvable(r, bound))
    if node.op == "combine" or not refs or not all(visit(r) for r in refs if r):
        return None
    live = [kinds[r] for r in refs if r]
    if node.op in ("column", "first_of") and len(set(live)) == 1:
        kind = live[0]
    elif node.op == "join" and set(live) == {"text"}:
        kind = "text"
    elif node.op == "parts" and set(live) == {"int"}:
        kind = "local"
    elif node.op == "add_seconds" and live[0] in ("local", "utc") and live[1] in ("int", "float"):
        kind = live[0]
    else:
        return None
    return FastNode(node.id, node.op, refs, text=node.sep if node.op == "join" else ""), kind


def _row_text(cells: Sequence[Any]) -> str:
    return ";".join(values.cell_text(c) for c in cells)


def _local(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo is not None else value


def _column_value(column: Column, value: Any, tz: tzinfo) -> Any:
    """A canonical value as the typed value of ``column`` (before formatting)."""
    kind = column.type
    if kind == "datetime":
        if not isinstance(value, datetime):
            return value
        if column.fmt in ("epoch", "epoch_ms") or (column.fmt and "%z" in column.fmt):
            return value.astimezone(tz) if value.tzinfo is not None else value
        return _local(value, tz)
    if kind == "date":
        return _local(value, tz).date() if isinstance(value, datetime) else value
    if kind in ("number", "integer", "duration_s") and column.scale and isinstance(value, int | float):
        return value / column.scale
    if kind == "string" and not isinstance(value, str):
        return _text_of(value)
    return value


# --- hypothesis strategy -------------------------------------------------------------------------

def _first_columns(profile: Profile, ref: str) -> set[str]:
    """Columns a field needs to be non-empty, following first choices."""
    node = profile.nodes[ref]
    if isinstance(node, Column):
        return {node.id}
    if node.op in ("column", "first_of", "join"):
        return _first_columns(profile, node.refs[0])
    if node.op in ("combine", "add_seconds"):
        return set().union(*(_first_columns(profile, r) for r in node.refs))
    if node.op == "parts":
        return set().union(*(_first_columns(profile, r) for r in node.refs[:3]))
    return set()


def _resolution(fmt: str | None) -> str:
    if fmt is None or fmt == "epoch":
        return "s"
    if fmt == "epoch_ms":
        return "ms"
    if "%f" in fmt:
        return "us"
    return "s" if "%S" in fmt else "min"


def _column_strategy(parser: ProfileParser, column: Column, feeds: str | None) -> Any:
    from hypothesis import strategies as st

    from auditor.testing import strategies as shared

    tz = parser._zone()
    kind = column.type
    if kind == "string":
        sensitivity = schemas.get(parser.kind).field(feeds).sensitivity if feeds else ""
        text = shared.identifiers() if sensitivity == "identifier" else shared.french_text(1, 30)
        if not column.mapping:
            return text
        # Columns are drawn as read, i.e. after the map: its words, or other text as the map leaves it.
        mapped = values.converter("string", mapping=dict(column.mapping))
        return st.one_of(st.sampled_from(sorted(set(column.mapping.values()))), text.map(mapped))
    if kind == "integer":
        return st.integers(min_value=0, max_value=10**6)
    if kind == "number":
        low, high = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}.get(feeds or "", (0.0, 1e5))
        numbers = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
        precision = column.precision
        return numbers.map(lambda v: round(v, precision)) if precision is not None else numbers
    if kind == "boolean":
        return st.booleans()
    if kind == "datetime":
        instants = shared.instants(_resolution(column.fmt))
        if column.fmt in ("epoch", "epoch_ms") or (column.fmt and "%z" in column.fmt):
            return instants.map(lambda dt: dt.astimezone(tz))
        return instants.map(lambda dt: _local(dt, tz))
    if kind == "date":
        return st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
    if kind == "time":
        seconds = _resolution(column.fmt) != "min"
        return st.times().map(lambda t: t.replace(second=t.second if seconds else 0, microsecond=0))
    if column.fmt in ("hh:mm", "%H:%M"):
        return st.integers(min_value=0, max_value=1439).map(lambda m: m * 60.0)
    return st.integers(min_value=0, max_value=86399).map(float)


def _split_parts(moment: datetime, refs: tuple[str, ...], tz: tzinfo) -> dict[str, int]:
    local = _local(moment, tz)
    return {ref: getattr(local, part) for part, ref in zip(_PART_NAMES, refs, strict=True) if ref}


def _row_strategy(parser: ProfileParser) -> Any:
    """Rows this profile gives back unchanged: typed column values drawn, then built as parsing builds them."""
    from hypothesis import strategies as st

    from auditor.testing import strategies as shared

    profile = parser.profile
    tz = parser._zone()
    targets = parser.render_targets()
    must = {c.id for c in profile.required_columns}
    must |= {c.id for c in profile.columns if c.type == "boolean" and c.fmt == "checkbox"}  # empty reads False
    feeds: dict[str, str] = {}
    for name in profile.fields:
        for ref in _first_columns(profile, name):
            feeds.setdefault(ref, name)
        if name in profile.schema_required:
            must |= _first_columns(profile, name)
    groups = [n for n in profile.nodes.values() if isinstance(n, Derived) and n.op == "parts"]
    in_groups = {r for n in groups for r in n.refs if r}
    parts: dict[str, Any] = {}
    for column in profile.columns:
        if column.id in in_groups:
            continue
        if column.id not in targets or column.scale is not None:
            parts[column.id] = st.none()
            continue
        strategy = _column_strategy(parser, column, feeds.get(column.id))
        parts[column.id] = strategy if column.id in must else st.none() | strategy
    drawn = st.fixed_dictionaries(parts)
    for group in groups:
        resolution = "s" if group.refs[5] in targets else "min"
        split: Any = shared.instants(resolution).map(partial(_split_parts, refs=group.refs, tz=tz))
        if not must & set(group.refs):
            split = st.one_of(st.just({}), split)
        drawn = st.tuples(drawn, split).map(lambda pair: {**pair[0], **pair[1]})
    return drawn.map(parser.evaluate).filter(lambda row: row is not None)


# --- registration ---------------------------------------------------------------------------------

def make_parser(profile: Profile) -> ProfileParser:
    """A parser instance for ``profile``: a ProfileParser subclass carrying its class attributes."""
    # A field only ever taken from the agent given (when_absent, no column) is not carried by the file: like
    # GPX, such a format is synthesised as one file per agent, named after the agent (auditor.synth.plan).
    produced = tuple(profile.fields)
    attributes = {
        "profile": profile,
        "name": profile.name,
        "kind": profile.kind,
        "tool": profile.tool,
        "version": profile.version,
        "patterns": profile.patterns,
        "extensions": profile.extensions,
        "title": profile.title,
        "blind_spots": profile.blind_spots,
        "roundtrip_fields": produced,
        "__doc__": f"Profile {profile.name} ({profile.file}).",
    }
    cls = type(f"Profile_{profile.name.replace('-', '_')}", (ProfileParser,), attributes)
    parser: ProfileParser = cls()
    return parser


def load_all(folder: Path = PROFILES_DIR) -> list[ProfileParser]:
    """Parsers for every ``*.yaml`` in ``folder``; every problem of every file is reported at once."""
    parsers: list[ProfileParser] = []
    problems: list[yamlsafe.Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            parsers.append(make_parser(load_profile(path)))
        except yamlsafe.DocumentError as error:
            problems.extend(error.problems)
    if problems:
        raise yamlsafe.DocumentError(problems)
    return parsers


for _parser in load_all():
    registry.add(_parser)
