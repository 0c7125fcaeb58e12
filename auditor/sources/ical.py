"""iCalendar (RFC 5545) agendas — Outlook/Exchange, Google, Thunderbird exports: one row per occurrence.

Reading is done by the ``icalendar`` library and recurrence expansion by ``recurring-ical-events``
(which also applies Google's ``X-WR-TIMEZONE`` through ``x-wr-timezone``); this module only decides
what an agenda row is:

* **One row per VEVENT occurrence.** RRULE/RDATE/EXDATE/RECURRENCE-ID are expanded within the export
  *window* (see ``_Window``); an RRULE without UNTIL/COUNT is infinite, so it is always bounded.
  ``source_row`` is the line of the ``BEGIN:VEVENT`` of the stored component the occurrence comes from
  (the series' master, or the override that replaced it).
* **Time zones.** icalendar resolves TZIDs through the file's VTIMEZONE, IANA names, and Windows names
  (``Romance Standard Time``) through its own CLDR table even without a VTIMEZONE; such VTIMEZONE-less
  TZIDs are counted in ``ctx.notes["timezones_without_vtimezone"]`` (``{tzid: {read_as, count}}``).
  A TZID nobody knows is read in the calendar zone (``X-WR-TIMEZONE``, else the export zone) and
  counted (warning ``timezone-unknown`` per time read, ``ctx.notes["timezones_unknown"]`` per TZID).
  Floating times go through ``ctx.time`` (counted as ``timezone-missing``) unless ``X-WR-TIMEZONE``
  gives them a zone.
* **All-day events** (``VALUE=DATE``) run from local midnight of DTSTART to local midnight of the
  *exclusive* DTEND (one day when DTEND is absent); a DATE-TIME event without DTEND/DURATION ends when
  it starts.
* **Bad input.** A file icalendar cannot read, or one cut short (a component never closed, e.g. no
  ``END:VCALENDAR``), raises ``ics-malformed``: we refuse a partial agenda rather than guess where the
  last event ended. A single event without DTSTART or with an unreadable date or rule is rejected with
  a reason; the others are kept. VTODO/VJOURNAL/VFREEBUSY are not appointments: counted in notes only.

The whole file is held in memory: icalendar parses a calendar as a whole (no streaming parser exists).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import icalendar
import pyarrow as pa
import recurring_ical_events
from icalendar import Calendar, Event, vBroken, vCalAddress, vCategory, vRecur

from auditor.errors import InputError
from auditor.io.times import localize, to_utc
from auditor.sources.base import RAW_LIMIT, BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.registry import register

#: How far UNTIL/DTSTAMP (and COUNT rules) may stretch the window past the earliest event.
RECURRENCE_HORIZON = timedelta(days=731)
#: Expanded occurrences a file may ask for (estimated before expanding, margins included): beyond, the
#: file is refused. About 100 µs each: the bound keeps a hostile rule under half a minute.
MAX_EXPANDED = 200_000
#: Query margin: recurring-ical-events compares floating and all-day times as UTC wall clocks.
_MARGIN = timedelta(days=1)
#: Private property carrying the index of the stored component into its occurrences.
_TAG = "X-AUDITOR-INDEX"
#: Properties holding times whose TZID we check.
_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_IGNORED = ("VTODO", "VJOURNAL", "VFREEBUSY")
_SNIFF = re.compile(r"^[\ufeff\s]*BEGIN:VCALENDAR", re.IGNORECASE)
_BOUNDARY = re.compile(r"^(BEGIN|END)[:;]", re.IGNORECASE)
_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 604800,
            "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
_FINER = (("BYSECOND", 1), ("BYMINUTE", 60), ("BYHOUR", 3600), ("BYDAY", 86400), ("BYMONTHDAY", 86400),
          ("BYYEARDAY", 86400), ("BYWEEKNO", 86400))
_PARIS = ZoneInfo("Europe/Paris")
_PRODID = "-//auditor//Agenda synthetique//FR"
#: Calendar names that are folder names, not people (Outlook writes "Calendrier"): they identify nobody.
_GENERIC_NAMES = frozenset({"agenda", "mon agenda", "calendrier", "calendar", "my calendar", "calendario",
                            "kalender", "default", "personal", "personnel", "work", "travail", "home"})
#: Canonical statuses that are not iCalendar ones, as an agenda would file them (no "no-show" in RFC 5545).
_STATUS_OUT = {"honoré": "CONFIRMED", "absent": "CONFIRMED", "annulé": "CANCELLED"}


@dataclass
class _Stored:
    """One VEVENT as stored in the file: where it starts, and what we learnt checking its times."""

    component: Event
    line: int
    raw: str
    start_unknown: bool = False
    end_unknown: bool = False
    rules: list[vRecur] = field(default_factory=list)
    recurring: bool = False
    finite: bool = False
    uid: str = ""


@dataclass
class _Outline:
    """Where components begin and end, from the physical lines, with folding undone as icalendar does.

    icalendar keeps no line numbers, so the n-th ``BEGIN:VEVENT`` found here is the n-th VEVENT it
    returns (both go through the file in order).
    """

    vevents: list[list[int]] = field(default_factory=list)  # [begin line, end line]
    stack: list[tuple[str, int, int]] = field(default_factory=list)  # (name, line, index in vevents)
    calendars: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    _pending: tuple[int, str] | None = None

    def feed(self, number: int, text: str) -> None:
        if text[:1] in (" ", "\t"):
            if self._pending is not None and len(self._pending[1]) < 200:
                self._pending = (self._pending[0], self._pending[1] + text[1:])
            return
        if not text:  # icalendar lets blank lines sit inside a fold
            return
        self.close()
        self._pending = (number, text[:200])

    def close(self) -> None:
        if self._pending is None:
            return
        number, logical = self._pending
        self._pending = None
        match = _BOUNDARY.match(logical)
        if not match:
            return
        name = logical.partition(":")[2].upper()
        if match.group(1).upper() == "BEGIN":
            if name == "VCALENDAR" and not self.stack:
                self.calendars += 1
            if name in _IGNORED:
                self.ignored[name] += 1
            if name == "VEVENT":
                self.vevents.append([number, number])
            self.stack.append((name, number, len(self.vevents) - 1))
        elif self.stack:
            begun, _line, index = self.stack.pop()
            if begun == "VEVENT":
                self.vevents[index][1] = number


@dataclass(frozen=True)
class _Window:
    """The export window recurrences are expanded in.

    From the earliest stored instant (DTSTART, RDATE, RECURRENCE-ID) to the latest of the stored
    instants (DTSTART, DTEND, RDATE), the UNTIL of the rules and the DTSTAMPs (the export time) — but
    UNTIL/DTSTAMP never push it more than ``RECURRENCE_HORIZON`` after the earliest instant. Stored
    events always fall inside, so no stored event is ever cut; only generated occurrences are bounded.
    A series bounded by COUNT expands up to the horizon (COUNT stops it earlier).
    """

    start: datetime
    end: datetime
    horizon: datetime

    def upper(self, stored: _Stored) -> datetime:
        return max(self.end, self.horizon) if stored.finite else self.end


@dataclass
class _Calendar:
    """One VCALENDAR of the file: its owner, the zone of its floating times, its readable events."""

    agent: str
    zone: tzinfo
    properties: dict[str, Any]  # calendar properties recurring-ical-events needs (zone, CALSCALE)
    events: list[_Stored] = field(default_factory=list)


@register
class ICalendar(Parser):
    """Agenda exports in iCalendar format (.ics): Outlook/Exchange, Google Agenda, Thunderbird, Zimbra.

    The agent is the calendar owner: ``X-WR-CALNAME`` of the calendar when present (Google and Outlook
    write the calendar's name there, often the owner's name or address) and not a mere folder name
    such as "Calendrier" (which would merge every agent into one); else the ORGANIZER (its CN,
    else its address) when one organizer is on more than half of the file's events (an agenda whose
    slots the agent creates); else ``ctx.agent_hint`` (the file name or ``--agent``).
    ``person_received`` lists the ATTENDEEs (CN, else address) other than the agent and the organizer.
    """

    name = "icalendar"
    kind = "appointments"
    tool = "icalendar"
    version = "1"
    patterns = ("*.ics", "*.ical", "*.ifb")
    title: ClassVar[dict[str, str]] = {
        "fr": "Agenda au format iCalendar (.ics)", "en": "Agenda in iCalendar format (.ics)",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Un fichier iCalendar montre l’agenda tel qu’il est au moment de l’export : ni les rendez-vous "
              "supprimés, ni l’historique des modifications, ni si la personne est venue (il n’existe pas de "
              "statut « absent »), ni le temps réellement passé. Les rendez-vous privés peuvent n’apparaître "
              "que comme « occupé », et les tâches (VTODO) et plages libre/occupé ne sont pas des rendez-vous.",
        "en": "An iCalendar file shows the agenda as it stands when exported: not deleted appointments, not "
              "the history of changes, not whether the person came (there is no \"no-show\" status), not the "
              "time actually spent. Private appointments may appear as \"busy\" only, and tasks (VTODO) and "
              "free/busy blocks are not appointments.",
    }
    roundtrip_fields = ("start", "end", "all_day", "category", "subject", "person_received", "site",
                        "created_by", "created_at", "status")

    def sniff(self, head: Head) -> float:
        return 0.95 if _SNIFF.match(head.text[:4096]) else 0.0

    # --- parse ------------------------------------------------------------------------------------

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        physical: list[str] = []
        outline = _Outline()
        for number, text in source.lines(ctx):
            physical.append(text)
            outline.feed(number, text)
        outline.close()
        if not outline.calendars:
            raise InputError("ics-malformed", ctx.file, detail="no BEGIN:VCALENDAR")
        if outline.stack:
            name, line, _index = outline.stack[0]
            raise InputError("ics-malformed", ctx.file, line=line,
                             detail=f"file cut short: BEGIN:{name} at line {line} is never closed")
        components = _read(("\n".join(physical) + "\n"), ctx.file)
        ignored = {name: n for name, n in sorted(outline.ignored.items())}
        if ignored:
            ctx.notes["ignored_components"] = ignored
        stored = _stored_events(components, outline, physical, ctx)
        calendars = _calendars(components, stored, ctx)
        builder = ctx.builder(self.kind)
        yield from _read_all(calendars, builder, ctx)
        yield from builder.finish()

    # --- render -----------------------------------------------------------------------------------

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """One VCALENDAR per agent (X-WR-CALNAME), Paris local times with their VTIMEZONE, CRLF."""
        if not rows:
            return bytes(_new_calendar(None).to_ical())
        stamp = max(_instants(rows), default=datetime(2000, 1, 1, tzinfo=UTC))
        by_agent: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            by_agent.setdefault(str(row.get("agent") or ""), []).append(row)
        out = b""
        for agent, mine in by_agent.items():
            calendar = _new_calendar(agent or None)
            for index, row in enumerate(mine):
                calendar.add_component(_render_event(row, index, agent, stamp))
            years = [t.year for t in _instants(mine)]
            calendar.add_missing_timezones(date(min(years), 1, 1), date(max(years) + 1, 1, 1))
            out += calendar.to_ical()
        return out

    def row_strategy(self) -> Any:
        """Rows as they come back: seconds, Paris wall clock (DST rule), agent "agent" (X-WR-CALNAME)."""
        from hypothesis import strategies as st

        from auditor.testing import strategies as ts

        @st.composite
        def rows(draw: st.DrawFn) -> dict[str, Any]:
            all_day = draw(st.booleans())
            if all_day:
                first = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
                days = draw(st.integers(min_value=1, max_value=5))
                start = localize(datetime.combine(first, time()), ts.PARIS)
                end = localize(datetime.combine(first + timedelta(days=days), time()), ts.PARIS)
            else:
                raw = draw(ts.instants("s"))
                start = ts.through_wall_clock(raw)
                end = max(start, ts.through_wall_clock(raw + timedelta(seconds=draw(st.integers(0, 10 * 3600)))))
            text = st.none() | ts.french_text(1, 40)
            created_by = draw(st.none() | ts.identifiers())
            taken = {"agent", (created_by or "").casefold()}
            people = draw(st.lists(ts.french_text(2, 30).filter(lambda p: p.casefold() not in taken), max_size=3))
            return {
                "agent": "agent", "start": start, "end": end, "all_day": all_day,
                "category": draw(text), "subject": draw(text), "person_received": "; ".join(people) or None,
                "site": draw(text), "created_by": created_by, "created_at": draw(ts.instants("s")),
                "status": draw(st.none() | st.sampled_from(("confirmed", "tentative", "cancelled"))),
            }

        return rows()


# --- reading ----------------------------------------------------------------------------------------


def _read(text: str, file: str) -> list[Any]:
    """icalendar's components, with its zone cache reset so no earlier file's VTIMEZONE leaks in."""
    icalendar.timezone.tzp.use_zoneinfo()  # also empties icalendar's process-wide cache of custom VTIMEZONEs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(Calendar.from_ical(text, multiple=True))
    except Exception as error:  # the library signals malformed input with many exception types
        raise InputError("ics-malformed", file, detail=_detail(error)) from None


def _detail(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:200]


def _stored_events(
    components: list[Any], outline: _Outline, physical: list[str], ctx: ParseContext
) -> list[_Stored]:
    events = [e for top in components for e in top.walk("VEVENT")]
    exact = len(events) == len(outline.vevents)
    if not exact:
        # Our outline and icalendar disagree (an exotic fold): number the events instead of guessing lines.
        ctx.notes["source_row"] = "ordinal of the VEVENT in the file"
    out = []
    for index, event in enumerate(events):
        if exact:
            first, last = outline.vevents[index]
            out.append(_Stored(event, first, _excerpt(physical, first, last)))
        else:
            out.append(_Stored(event, index + 1, _to_text(event)))
    return out


def _excerpt(physical: list[str], first: int, last: int) -> str:
    """The event's own lines, up to what a reject keeps."""
    kept: list[str] = []
    size = 0
    for line in physical[first - 1 : last]:
        kept.append(line)
        size += len(line) + 1
        if size >= RAW_LIMIT:
            break
    return "\n".join(kept)[:RAW_LIMIT]


def _to_text(component: Any) -> str:
    try:
        return bytes(component.to_ical()).decode("utf-8", "replace")[:RAW_LIMIT]
    except Exception:  # a broken component we only want to quote
        return ""


def _calendars(components: list[Any], stored: list[_Stored], ctx: ParseContext) -> list[_Calendar]:
    """Group the events by calendar, decide each calendar's agent and zone, reject unreadable events."""
    organizer = _dominant_organizer(stored)
    vtimezones = {str(tz.get("TZID")) for top in components for tz in top.walk("VTIMEZONE")}
    by_event = {id(s.component): s for s in stored}
    calendars: list[_Calendar] = []
    origins: set[str] = set()
    for top in components:
        properties = dict(top.items()) if top.name == "VCALENDAR" else {}
        name = _text(properties.get("X-WR-CALNAME"))
        if name and name.casefold() in _GENERIC_NAMES:
            ctx.notes["calendar_name_ignored"] = name
            name = None
        if name:
            agent, origin = name, "X-WR-CALNAME"
        elif organizer:
            agent, origin = organizer, "ORGANIZER"
        else:
            agent, origin = ctx.agent_hint, "file name or --agent"
        calendar = _Calendar(agent, *_calendar_zone(properties, ctx))
        if "CALSCALE" in properties:
            calendar.properties["CALSCALE"] = properties["CALSCALE"]
        for event in top.walk("VEVENT"):
            item = by_event[id(event)]
            problem = _check(item, vtimezones, calendar.zone, ctx)
            if problem is None:
                calendar.events.append(item)
                continue
            ctx.rows_in += 1
            code, params = problem
            ctx.reject(item.line, code, item.raw, **params)
        if calendar.events:
            origins.add(origin)
        calendars.append(calendar)
    if origins:
        ctx.notes["agent_from"] = ", ".join(sorted(origins))
    return calendars


def _calendar_zone(properties: Mapping[str, Any], ctx: ParseContext) -> tuple[tzinfo, dict[str, Any]]:
    """The zone of floating times (X-WR-TIMEZONE, Google) and what recurring-ical-events is told of it.

    x-wr-timezone (called by recurring-ical-events) only takes IANA names: a Windows name is passed on
    as its IANA equivalent, and a zone only the file defines is applied by us to the floating times.
    """
    name = _text(properties.get("X-WR-TIMEZONE"))
    if name is None:
        return ctx.tz, {}
    try:
        zone = icalendar.timezone.tzp.timezone(name)
    except OSError:  # a zoneinfo folder such as "Europe"
        zone = None
    if zone is None:
        _count_zone(ctx, "timezones_unknown", f"X-WR-TIMEZONE:{name}", ctx.tz, 1)
        ctx.warn("timezone-unknown")
        return ctx.tz, {}
    key = getattr(zone, "key", None)
    return zone, ({"X-WR-TIMEZONE": key} if isinstance(zone, ZoneInfo) and key else {})


def _dominant_organizer(stored: list[_Stored]) -> str | None:
    """The organizer on more than half of the events (its CN, else its address), if there is one."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for item in stored:
        name, mail = _person(_first(item.component.get("ORGANIZER")))
        key = (mail or name or "").casefold()
        if key:
            counts[key] += 1
            if name or key not in shown:
                shown[key] = name or mail or key
    if not counts:
        return None
    key, n = counts.most_common(1)[0]
    return shown[key] if n * 2 > len(stored) else None


def _check(
    item: _Stored, vtimezones: set[str], zone: tzinfo, ctx: ParseContext
) -> tuple[str, dict[str, Any]] | None:
    """Why this stored event cannot be read (a reject code and its parameters), or None.

    A readable event also gets what the rows need to know about it: its rules, unknown zones, whether
    it recurs; and the TZIDs it uses are counted in the notes.
    """
    problem = _problem(item.component, zone)
    if problem is not None:
        return problem
    event = item.component
    rules = _rules(event)
    if rules is None:
        return "row-malformed", {"detail": f"RRULE unreadable: {str(event.get('RRULE'))[:80]}"}
    for name in ("RDATE", "EXDATE"):
        if any(isinstance(v, vBroken) for v in _all(event.get(name))):
            return "row-malformed", {"detail": f"{name} unreadable: {str(event.get(name))[:80]}"}
    item.rules = rules
    item.start_unknown = _zone_unknown(event.get("DTSTART"))
    end = event.get("DTEND")
    item.end_unknown = _zone_unknown(end) if end is not None else item.start_unknown
    item.recurring = bool(rules) or event.get("RDATE") is not None
    # Bounded by COUNT (and nothing infinite): it may run past the window, up to the horizon.
    item.finite = any("COUNT" in r for r in rules) and all("COUNT" in r or "UNTIL" in r for r in rules)
    for name in _TIME_PROPERTIES:
        for prop in _all(event.get(name)):
            _note_zone(prop, vtimezones, zone, ctx)
    return None


def _problem(event: Event, zone: tzinfo) -> tuple[str, dict[str, Any]] | None:
    """A start, an end or a duration the rows cannot be built from."""
    if event.get("DTSTART") is None:
        return "row-required-missing", {"field": "start"}
    for name, kind in (("DTSTART", date), ("DTEND", date), ("RECURRENCE-ID", date), ("DURATION", timedelta)):
        prop: Any = event.get(name)
        if isinstance(prop, (list, vBroken)):  # repeated, or unreadable (vBroken refuses ``.dt``)
            return "row-time-invalid", {"field": name, "value": str(_first(prop))[:80]}
        if prop is not None and not isinstance(getattr(prop, "dt", None), kind):  # e.g. a PERIOD
            return "row-time-invalid", {"field": name, "value": str(getattr(prop, "dt", prop))[:80]}
    begin = _instant(_when(event, "DTSTART"), zone)
    if begin is None:
        return "row-time-invalid", {"field": "DTSTART", "value": str(_when(event, "DTSTART"))}
    end = _instant(_when(event, "DTEND"), zone) if "DTEND" in event else None
    duration = _when(event, "DURATION")
    if end is not None and end < begin:
        # recurring-ical-events would swap start and end: the file contradicts itself, say so
        return "row-time-invalid", {"field": "DTEND", "value": str(_when(event, "DTEND"))}
    if isinstance(duration, timedelta) and duration < timedelta(0):
        return "row-time-invalid", {"field": "DURATION", "value": str(duration)}
    return None


def _rules(event: Event) -> list[vRecur] | None:
    """The event's RRULEs, Exchange's ``BYDAY=MO, TU`` repaired; None if one stays unreadable."""
    rules = []
    repaired = False
    for rule in _all(event.get("RRULE")):
        if isinstance(rule, vBroken):
            try:
                rule = vRecur.from_ical(re.sub(r"\s+", "", str(rule)))
            except Exception:  # still not a rule: the event is rejected
                return None
            repaired = True
        if not isinstance(rule, vRecur):
            return None
        rules.append(rule)
    if repaired:
        event["RRULE"] = rules if len(rules) > 1 else rules[0]
    return rules


def _zone_unknown(prop: Any) -> bool:
    """A TZID icalendar could not resolve leaves the time naive."""
    value = getattr(prop, "dt", None)
    return isinstance(value, datetime) and value.tzinfo is None and bool(_tzid(prop))


def _tzid(prop: Any) -> str | None:
    params = getattr(prop, "params", None)
    value = params.get("TZID") if params is not None else None
    return str(value) if value else None


def _note_zone(prop: Any, vtimezones: set[str], zone: tzinfo, ctx: ParseContext) -> None:
    """Count TZIDs used without a VTIMEZONE (with the zone they were read as), unknown ones apart."""
    tzid = _tzid(prop)
    if not tzid or tzid in vtimezones:
        return
    values = [v for v in _values(prop) if isinstance(v, datetime)]
    aware = [v for v in values if v.tzinfo is not None]
    if aware:
        _count_zone(ctx, "timezones_without_vtimezone", tzid, aware[0].tzinfo, len(values))
    elif values:
        _count_zone(ctx, "timezones_unknown", tzid, zone, len(values))


def _count_zone(ctx: ParseContext, note: str, tzid: str, zone: tzinfo | None, n: int) -> None:
    """``ctx.notes[note][tzid] = {"read_as": zone name, "count": property values}``."""
    entry = ctx.notes.setdefault(note, {}).setdefault(tzid, {"read_as": _zone_name(zone), "count": 0})
    entry["count"] += n


def _zone_name(zone: tzinfo | None) -> str:
    return str(getattr(zone, "key", None) or zone)


# --- expansion --------------------------------------------------------------------------------------


def _window(calendars: list[_Calendar]) -> _Window | None:
    stored: list[datetime] = []
    stretch: list[datetime] = []
    for calendar in calendars:
        for item in calendar.events:
            event = item.component
            for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE"):
                for prop in _all(event.get(name)):
                    stored.extend(_instants_of(_values(prop), calendar.zone))
            untils = [u for rule in item.rules for u in rule.get("UNTIL", ())]
            stretch.extend(_instants_of(untils, calendar.zone))
            for stamp in _all(event.get("DTSTAMP")):  # a list when the property is repeated
                if not isinstance(stamp, vBroken):
                    stretch.extend(_instants_of([getattr(stamp, "dt", None)], calendar.zone))
    if not stored:
        return None
    start, end = min(stored), max(stored)
    horizon = _plus(start, RECURRENCE_HORIZON)
    return _Window(start, max(end, min(max(stretch, default=end), horizon)), horizon)


def _values(prop: Any) -> list[Any]:
    """The dates/datetimes of a property (both ends of an RDATE period)."""
    if isinstance(prop, vBroken):
        return []
    if not hasattr(prop, "dts"):
        return [getattr(prop, "dt", None)]
    out = []
    for item in prop.dts:
        value = item.dt
        if isinstance(value, tuple):
            begin, stop = value
            out.append(begin)
            with contextlib.suppress(OverflowError):
                out.append(begin + stop if isinstance(stop, timedelta) else stop)
        else:
            out.append(value)
    return out


def _instants_of(values: list[Any], zone: tzinfo) -> list[datetime]:
    return [moment for moment in (_instant(v, zone) for v in values) if moment is not None]


def _instant(value: Any, zone: tzinfo) -> datetime | None:
    """UTC instant of a date/datetime, naive ones read in ``zone`` (no counting: window only)."""
    try:
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo is not None else localize(value, zone)
        if isinstance(value, date):
            return localize(datetime.combine(value, time()), zone)
    except (OverflowError, ValueError):
        return None
    return None


def _plus(value: datetime, delta: timedelta) -> datetime:
    try:
        return value + delta
    except OverflowError:
        return (datetime.max if delta > timedelta(0) else datetime.min).replace(tzinfo=UTC)


def _estimate(rules: list[vRecur], span: timedelta) -> int:
    """An upper bound of the occurrences a series' rules give in ``span`` (to refuse absurd expansions)."""
    total = 0
    for rule in rules:
        try:
            freq = str(rule.get("FREQ", ["DAILY"])[0]).upper()
            unit = _SECONDS.get(freq, 1) * max(1, int(rule.get("INTERVAL", [1])[0]))
            for part, seconds in _FINER:
                if rule.get(part) and seconds < unit:
                    unit = seconds
            bound = int(max(span.total_seconds(), 0) // unit) + 1
            if rule.get("COUNT"):
                bound = min(bound, max(0, int(rule["COUNT"][0])))
        except (TypeError, ValueError, IndexError, KeyError):
            bound = 0  # the library will refuse the rule itself
        total += bound
    return total


def _read_all(calendars: list[_Calendar], builder: BatchBuilder, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
    window = _window(calendars)
    if window is None:
        return
    ctx.notes["window"] = {"start": window.start.isoformat(), "end": window.end.isoformat()}
    items = [item for c in calendars for item in c.events]
    budget = sum(_estimate(i.rules, window.upper(i) - window.start + 2 * _MARGIN) for i in items)
    if budget > MAX_EXPANDED:
        raise InputError("ics-malformed", ctx.file,
                         detail=f"recurring events would repeat about {budget} times (limit {MAX_EXPANDED})")
    expanded = 0
    read: set[int] = set()
    for calendar in calendars:
        _key_series(calendar, ctx)
        for occurrence, item in _occurrences(calendar, window, ctx):
            ctx.rows_in += 1
            read.add(id(item))
            expanded += item.recurring
            try:
                row = _row(occurrence, item, calendar, ctx)
            except (OverflowError, ValueError, TypeError) as error:  # a time out of datetime's range
                ctx.reject(item.line, "row-time-invalid", item.raw, field="DTSTART", value=_detail(error))
                continue
            batch = builder.add(item.line, row, item.raw)
            if batch is not None:
                yield batch
    if expanded:
        ctx.warn("recurrence-expanded", expanded)
    silent = sum(id(item) not in read for item in items)
    if silent:  # every occurrence excluded (EXDATE) or superseded: nothing to read, said here
        ctx.notes["events_without_occurrence"] = silent


def _key_series(calendar: _Calendar, ctx: ParseContext) -> None:
    """Tag each event with its index and give it a UID of its own when it has none or a taken one.

    recurring-ical-events groups events by UID and keeps one master per UID: two stored masters
    sharing a UID (a generator writing the same UID everywhere) would silently lose all but one.
    """
    masters: set[str] = set()
    renamed = 0
    for index, item in enumerate(calendar.events):
        event = item.component
        event[_TAG] = str(index)
        uid = _text(event.get("UID")) or ""
        if not uid or ("RECURRENCE-ID" not in event and uid in masters):
            renamed += bool(uid)
            uid = f"{uid}#auditor-{index}"
            event["UID"] = uid
        if "RECURRENCE-ID" not in event:
            masters.add(uid)
        item.uid = uid
    if renamed:
        ctx.notes["duplicate_uids"] = ctx.notes.get("duplicate_uids", 0) + renamed


def _occurrences(calendar: _Calendar, window: _Window, ctx: ParseContext) -> Iterator[tuple[Event, _Stored]]:
    """Occurrences of the calendar's events in the window, each with the stored event it comes from.

    One query for the whole calendar; if it cannot even be built, one per UID, so a broken series only
    loses itself (its stored events are rejected with the library's reason).
    """
    by_uid: dict[str, list[_Stored]] = {}
    for item in calendar.events:
        by_uid.setdefault(item.uid, []).append(item)
    try:
        queries = [_query(calendar, calendar.events)]
    except Exception:  # a broken series spoils the whole query: isolate it
        queries = []
        for group in by_uid.values():
            try:
                queries.append(_query(calendar, group))
            except Exception as error:
                _reject_series(group, error, ctx)
    for query in queries:
        for series in query.series:
            group = by_uid.get(str(series.uid), [])
            upper = max((window.upper(i) for i in group), default=window.end)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    span = series.between(_plus(window.start, -_MARGIN), _plus(upper, _MARGIN))
                    found = [(o, calendar.events[int(o[_TAG])]) for o in (s.as_component(False) for s in span)]
            except Exception as error:  # the library's reason for this series
                _reject_series(group, error, ctx)
                continue
            found.sort(key=lambda pair: _sort_key(pair[0], calendar.zone))
            for occurrence, item in found:
                if item.recurring and not _inside(occurrence, window.start, window.upper(item), calendar.zone):
                    continue  # generated outside the window: never read, so never counted
                yield occurrence, item


def _query(calendar: _Calendar, events: list[_Stored]) -> Any:
    holder = Calendar()
    for key, value in calendar.properties.items():
        holder[key] = value
    for item in events:
        holder.add_component(item.component)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return recurring_ical_events.of(holder)


def _reject_series(group: list[_Stored], error: BaseException, ctx: ParseContext) -> None:
    for item in group:
        ctx.rows_in += 1
        ctx.reject(item.line, "row-malformed", item.raw, detail=_detail(error))


def _when(component: Event, name: str) -> Any:
    """The date/datetime of a time property the library set (None when absent)."""
    prop: Any = component.get(name)
    return None if isinstance(prop, vBroken) else getattr(prop, "dt", None)


def _sort_key(occurrence: Event, zone: tzinfo) -> datetime:
    return _instant(_when(occurrence, "DTSTART"), zone) or datetime.min.replace(tzinfo=UTC)


def _inside(occurrence: Event, start: datetime, end: datetime, zone: tzinfo) -> bool:
    moment = _instant(_when(occurrence, "DTSTART"), zone)
    return moment is not None and start <= moment <= end


# --- one row ----------------------------------------------------------------------------------------


def _row(occurrence: Event, item: _Stored, calendar: _Calendar, ctx: ParseContext) -> dict[str, Any]:
    begin = _when(occurrence, "DTSTART")
    stop = _when(occurrence, "DTEND") or begin
    all_day = not isinstance(begin, datetime)
    if all_day:
        start = _midnight(begin, calendar.zone, ctx)
        end = _midnight(stop, calendar.zone, ctx) if not isinstance(stop, datetime) else ctx.time(stop)
    else:
        start = _moment(begin, item.start_unknown, calendar.zone, ctx)
        end = _moment(stop, item.end_unknown, calendar.zone, ctx)
    organizer = _person(_first(occurrence.get("ORGANIZER")))
    created = occurrence.get("CREATED")
    if created is None or isinstance(created, vBroken):
        created = occurrence.get("DTSTAMP")
    return {
        "agent": calendar.agent,
        "start": start,
        "end": end,
        "all_day": all_day,
        "category": _categories(occurrence.get("CATEGORIES")),
        "subject": _text(occurrence.get("SUMMARY")),
        "person_received": _received(occurrence.get("ATTENDEE"), calendar.agent, organizer),
        "site": _text(occurrence.get("LOCATION")),
        "created_by": organizer[0] or organizer[1],
        "created_at": _created(created, calendar.zone, ctx),
        "status": _status(occurrence),
    }


def _midnight(day: date, zone: tzinfo, ctx: ParseContext) -> datetime | None:
    """Local midnight: all-day values have no zone by nature, so no ``timezone-missing`` is counted."""
    return to_utc(datetime.combine(day, time()), zone, ctx.counts)


def _moment(value: date, unknown: bool, zone: tzinfo, ctx: ParseContext) -> datetime | None:
    """UTC instant of an occurrence's time: an unknown TZID or a floating time is read in ``zone``."""
    if not isinstance(value, datetime):
        return _midnight(value, zone, ctx)
    if unknown:
        ctx.warn("timezone-unknown")
        return to_utc(value, zone, ctx.counts)
    if value.tzinfo is None and zone is not ctx.tz:
        ctx.warn("timezone-missing")  # floating, in a zone x-wr-timezone could not apply
        return to_utc(value, zone, ctx.counts)
    return ctx.time(value)


def _created(prop: Any, zone: tzinfo, ctx: ParseContext) -> datetime | None:
    if prop is None or isinstance(prop, vBroken):
        return None
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return ctx.time(value)
    if isinstance(value, date):
        return _midnight(value, zone, ctx)
    return None


def _status(event: Event) -> str | None:
    for name in ("STATUS", "X-MICROSOFT-CDO-BUSYSTATUS"):
        text = _text(event.get(name))
        if text:
            return text.lower()
    return None


def _categories(prop: Any) -> str | None:
    names: list[str] = []
    for item in _all(prop):
        values = item.cats if isinstance(item, vCategory) else [item]
        names.extend(str(v).strip() for v in values)
    joined = ", ".join(n for n in names if n)
    return joined or None


def _received(prop: Any, agent: str, organizer: tuple[str | None, str | None]) -> str | None:
    """Attendees other than the agent and the organizer (CN, else address), joined by "; "."""
    own = {agent.casefold()} | {v.casefold() for v in organizer if v}
    names = []
    for attendee in _all(prop):
        name, mail = _person(attendee)
        if (name and name.casefold() in own) or (mail and mail.casefold() in own):
            continue
        if name or mail:
            names.append(name or mail)
    return "; ".join(n for n in names if n) or None


def _person(prop: Any) -> tuple[str | None, str | None]:
    """(CN, address without ``mailto:``) of an ORGANIZER/ATTENDEE."""
    if prop is None:
        return None, None
    params = getattr(prop, "params", None)
    name = _text(params.get("CN")) if params is not None else None
    mail = str(prop).strip()
    if mail.lower().startswith("mailto:"):
        mail = mail[7:].strip()
    return name, (mail or None)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, list):
        value = _first(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- writing ----------------------------------------------------------------------------------------


def _new_calendar(agent: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if agent:
        calendar.add("x-wr-calname", agent)
    return calendar


def _instants(rows: Sequence[Mapping[str, Any]]) -> list[datetime]:
    return [t for row in rows for t in (row.get("start"), row.get("end"), row.get("created_at"))
            if isinstance(t, datetime)]


def _render_event(row: Mapping[str, Any], index: int, agent: str, stamp: datetime) -> Event:
    event = Event()
    start: datetime = row["start"]
    end: datetime | None = row.get("end")
    seed = f"{agent}|{index}|{start.isoformat()}".encode()
    event.add("uid", f"{hashlib.sha1(seed).hexdigest()[:20]}@agenda.invalid")
    event.add("dtstamp", stamp.astimezone(UTC))
    if row.get("created_at") is not None:
        event.add("created", row["created_at"].astimezone(UTC))
    if row.get("all_day"):
        first = start.astimezone(_PARIS).date()
        event.add("dtstart", first)
        if end is not None:
            local = end.astimezone(_PARIS)
            last = local.date() if local.time() == time() else local.date() + timedelta(days=1)
            event.add("dtend", max(last, first + timedelta(days=1)))
    else:
        event.add("dtstart", start.astimezone(_PARIS))
        if end is not None:
            event.add("dtend", end.astimezone(_PARIS))
    for key, name in (("subject", "summary"), ("site", "location")):
        if row.get(key):
            event.add(name, str(row[key]))
    if row.get("category"):
        event.add("categories", [str(row["category"])])
    if row.get("status"):
        status = str(row["status"])
        event.add("status", _STATUS_OUT.get(status.lower(), status.upper()))
    if row.get("created_by"):
        event.add("organizer", _address(str(row["created_by"])))
    for person in str(row.get("person_received") or "").split("; "):
        if person.strip():
            event.add("attendee", _address(person.strip(), role=True))
    return event


def _address(who: str, role: bool = False) -> vCalAddress:
    """A cal-address as Outlook writes it: ``CN=Name:mailto:name@domain`` (a bare address has no CN)."""
    if "@" in who and " " not in who:
        address = vCalAddress(f"mailto:{who}")
    else:
        slug = unicodedata.normalize("NFKD", who).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9]+", ".", slug).strip(".") or "inconnu"
        address = vCalAddress(f"mailto:{slug}@agenda.invalid")
        address.params["CN"] = who
    if role:
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "ACCEPTED"
    return address
