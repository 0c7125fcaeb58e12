"""The employer's declaration (hours, breaks, holidays, delegation, purposes, retention, fields, dates).

Rules compare what a tool records with what the employer declared. Without a declaration, documented
defaults apply (08:30–17:30 with a 12:00–13:30 lunch break, Monday–Friday, Europe/Paris, the French
public holidays) and ``Policy.defaults_used`` names every section that came from a default so reports
can say so. Policy values reach DuckDB only as Arrow tables (``tables()``), never inside SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from auditor.rules.yamlsafe import DocumentError, Problem, load_schema, load_text, schema_problems

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_GROUP = "default"
DEFAULT_TIMEZONE = "Europe/Paris"

#: Sections a declaration may leave out; each has a default (or "unknown") that reports mention.
SECTIONS = (
    "timezone", "groups", "holidays", "delegation", "purposes", "retention_days", "declared_fields",
    "recipients", "go_live_date", "consultation_date", "dpia_date", "identity",
)


@dataclass(frozen=True)
class Interval:
    """Minutes after local midnight, ``start`` included, ``end`` excluded."""

    start_min: int
    end_min: int


@dataclass(frozen=True)
class Group:
    name: str
    days: tuple[int, ...]  # ISO weekday numbers, Monday = 1
    hours: tuple[Interval, ...]
    breaks: tuple[Interval, ...]


@dataclass(frozen=True)
class Delegation:
    agent: str
    weekday: int | None
    day: date | None
    interval: Interval


@dataclass(frozen=True)
class Holidays:
    calendar: str = "fr"
    add: tuple[date, ...] = ()
    remove: tuple[date, ...] = ()

    def dates(self, years: Iterable[int]) -> dict[date, str]:
        """Public holidays of ``years`` by this calendar, with the additions and removals applied."""
        found: dict[date, str] = {}
        for year in years:
            if self.calendar != "none":
                found.update(french_holidays(year, alsace_moselle=self.calendar == "fr-alsace-moselle"))
        for day in self.add:
            found.setdefault(day, "declared")
        for day in self.remove:
            found.pop(day, None)
        return found


@dataclass(frozen=True)
class Policy:
    """A validated declaration; every field has a value, and ``defaults_used`` says which were defaulted."""

    timezone: str = DEFAULT_TIMEZONE
    groups: dict[str, Group] = field(default_factory=lambda: {DEFAULT_GROUP: default_group()})
    members: dict[str, str] = field(default_factory=dict)
    holidays: Holidays = field(default_factory=Holidays)
    delegation: tuple[Delegation, ...] = ()
    purposes: tuple[str, ...] = ()
    retention_days: dict[str, int] = field(default_factory=dict)
    declared_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    go_live_date: date | None = None
    consultation_date: date | None = None
    dpia_date: date | None = None
    identity: tuple[tuple[str, str, str], ...] = ()  # (person, tool or "*", identifier)
    defaults_used: tuple[str, ...] = SECTIONS
    source: str | None = None

    @property
    def declared(self) -> bool:
        """True when the employer's declaration was given (even if some sections defaulted)."""
        return self.source is not None

    def tables(self, years: Iterable[int]) -> dict[str, pa.Table]:
        """The declaration as DuckDB-ready Arrow tables (the only way policy values reach SQL)."""
        return policy_tables(self, years)


def default_group() -> Group:
    """Documented default: Monday–Friday, 08:30–17:30, lunch break 12:00–13:30 (Europe/Paris)."""
    return Group(DEFAULT_GROUP, (1, 2, 3, 4, 5), (Interval(510, 1050),), (Interval(720, 810),))


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_holidays(year: int, alsace_moselle: bool = False) -> dict[date, str]:
    """The eleven French public holidays (Code du travail L3133-1), plus Alsace-Moselle's two."""
    sunday = easter(year)
    days = {
        date(year, 1, 1): "jour-de-l-an",
        sunday + timedelta(days=1): "lundi-de-paques",
        date(year, 5, 1): "fete-du-travail",
        date(year, 5, 8): "victoire-1945",
        sunday + timedelta(days=39): "ascension",
        sunday + timedelta(days=50): "lundi-de-pentecote",
        date(year, 7, 14): "fete-nationale",
        date(year, 8, 15): "assomption",
        date(year, 11, 1): "toussaint",
        date(year, 11, 11): "armistice-1918",
        date(year, 12, 25): "noel",
    }
    if alsace_moselle:
        days[sunday - timedelta(days=2)] = "vendredi-saint"
        days[date(year, 12, 26)] = "saint-etienne"
    return days


def default_policy() -> Policy:
    return Policy()


def load_policy(path: Path | str) -> Policy:
    """Read and validate a declaration file; every problem is reported with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError([Problem(str(path), None, f"cannot read: {error}")]) from None
    return parse_policy(text, str(path))


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    data, problems = load_text(text, file)
    if data is None and not problems:
        data = {}
    if data is not None:
        problems += schema_problems(data, load_schema("policy.schema.json"), file, text)
    if not problems:
        problems += _semantic_problems(data, file)
    if problems:
        raise DocumentError(problems)
    return _build(data, file)


def _semantic_problems(data: dict[str, Any], file: str) -> list[Problem]:
    problems = []
    timezone = data.get("timezone", DEFAULT_TIMEZONE)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(file, None, f"timezone: unknown time zone {timezone!r}"))
    groups = data.get("groups", {DEFAULT_GROUP: None})
    for agent, group in data.get("members", {}).items():
        if group not in groups:
            problems.append(Problem(file, None, f"members/{agent}: group {group!r} is not declared"))
    if "groups" in data and DEFAULT_GROUP not in groups:
        problems.append(Problem(file, None, "groups: a group named 'default' is required"))
    for name, group in data.get("groups", {}).items():
        for key in ("hours", "breaks"):
            for item in group.get(key, []):
                if _minutes(item["end"]) <= _minutes(item["start"]):
                    problems.append(Problem(file, None, f"groups/{name}/{key}: end must be after start"))
    for item in data.get("delegation", []):
        if _minutes(item["end"]) <= _minutes(item["start"]):
            problems.append(Problem(file, None, f"delegation/{item['agent']}: end must be after start"))
    return problems


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _interval(item: dict[str, str]) -> Interval:
    return Interval(_minutes(item["start"]), _minutes(item["end"]))


def _build(data: dict[str, Any], file: str) -> Policy:
    groups = {
        name: Group(
            name,
            tuple(WEEKDAYS.index(d) + 1 for d in g["days"]),
            tuple(_interval(i) for i in g["hours"]),
            tuple(_interval(i) for i in g.get("breaks", [])),
        )
        for name, g in data.get("groups", {}).items()
    } or {DEFAULT_GROUP: default_group()}
    holidays = data.get("holidays", {})
    identity = tuple(
        (row["person"], tool, ident)
        for row in data.get("identity", [])
        for tool, value in row["ids"].items()
        for ident in ([value] if isinstance(value, str) else value)
    )
    dates = {k: date.fromisoformat(data[k]) if k in data else None for k in ("go_live_date", "consultation_date",
                                                                              "dpia_date")}
    return Policy(
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        groups=groups,
        members=dict(data.get("members", {})),
        holidays=Holidays(
            calendar=holidays.get("calendar", "fr"),
            add=tuple(date.fromisoformat(d) for d in holidays.get("add", [])),
            remove=tuple(date.fromisoformat(d) for d in holidays.get("remove", [])),
        ),
        delegation=tuple(
            Delegation(
                agent=d["agent"],
                weekday=WEEKDAYS.index(d["weekday"]) + 1 if "weekday" in d else None,
                day=date.fromisoformat(d["date"]) if "date" in d else None,
                interval=_interval(d),
            )
            for d in data.get("delegation", [])
        ),
        purposes=tuple(data.get("purposes", [])),
        retention_days=dict(data.get("retention_days", {})),
        declared_fields={k: tuple(v) for k, v in data.get("declared_fields", {}).items()},
        recipients=tuple(data.get("recipients", [])),
        identity=identity,
        defaults_used=tuple(s for s in SECTIONS if s not in data),
        source=file,
        **dates,
    )


def policy_tables(policy: Policy, years: Iterable[int]) -> dict[str, pa.Table]:
    """Arrow tables named ``policy_*`` that metric SQL joins against."""
    groups = list(policy.groups.values())

    def intervals(attr: str) -> pa.Table:
        rows = [(g.name, day, i.start_min, i.end_min) for g in groups for day in g.days for i in getattr(g, attr)]
        return pa.table({
            "grp": pa.array([r[0] for r in rows], pa.string()),
            "isodow": pa.array([r[1] for r in rows], pa.int32()),
            "start_min": pa.array([r[2] for r in rows], pa.int32()),
            "end_min": pa.array([r[3] for r in rows], pa.int32()),
        })

    holidays = sorted(policy.holidays.dates(sorted(set(years))).items())
    string_list = pa.list_(pa.string())
    return {
        "policy_params": pa.table({
            "tz": [policy.timezone],
            "default_group": [DEFAULT_GROUP],
            "declared": [policy.declared],
            "hours_declared": ["groups" not in policy.defaults_used],
            "fields_declared": ["declared_fields" not in policy.defaults_used],
            "delegation_declared": ["delegation" not in policy.defaults_used],
            "go_live_date": pa.array([policy.go_live_date], pa.date32()),
            "consultation_date": pa.array([policy.consultation_date], pa.date32()),
            "dpia_date": pa.array([policy.dpia_date], pa.date32()),
            "defaults_used": pa.array([list(policy.defaults_used)], string_list),
        }),
        "policy_hours": intervals("hours"),
        "policy_breaks": intervals("breaks"),
        "policy_workdays": pa.table({
            "grp": pa.array([g.name for g in groups for _ in g.days], pa.string()),
            "isodow": pa.array([d for g in groups for d in g.days], pa.int32()),
        }),
        "policy_members": pa.table({
            "agent": pa.array(list(policy.members), pa.string()),
            "grp": pa.array(list(policy.members.values()), pa.string()),
        }),
        "policy_holidays": pa.table({
            "day": pa.array([d for d, _ in holidays], pa.date32()),
            "name": pa.array([n for _, n in holidays], pa.string()),
        }),
        "policy_delegation": pa.table({
            "agent": pa.array([d.agent for d in policy.delegation], pa.string()),
            "isodow": pa.array([d.weekday for d in policy.delegation], pa.int32()),
            "day": pa.array([d.day for d in policy.delegation], pa.date32()),
            "start_min": pa.array([d.interval.start_min for d in policy.delegation], pa.int32()),
            "end_min": pa.array([d.interval.end_min for d in policy.delegation], pa.int32()),
        }),
        "policy_retention": pa.table({
            "kind": pa.array(list(policy.retention_days), pa.string()),
            "days": pa.array(list(policy.retention_days.values()), pa.int64()),
        }),
        "policy_declared_fields": pa.table({
            "kind": pa.array([k for k, fs in policy.declared_fields.items() for _ in fs], pa.string()),
            "field": pa.array([f for fs in policy.declared_fields.values() for f in fs], pa.string()),
        }),
        "policy_identity": pa.table({
            "person": pa.array([r[0] for r in policy.identity], pa.string()),
            "tool": pa.array([r[1] for r in policy.identity], pa.string()),
            "agent": pa.array([r[2] for r in policy.identity], pa.string()),
        }),
    }
