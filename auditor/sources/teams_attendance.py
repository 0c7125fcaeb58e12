"""Microsoft Teams meeting attendance report, as downloaded by the organiser.

UTF-16 (LE, with BOM), tab-separated, in three numbered sections: ``1. Summary`` (key/value lines about
the meeting, kept in the provenance notes), ``2. Participants`` (one line per person: first join, last
leave, time in the meeting) and ``3. In-Meeting Activities`` (one line per join/leave pair). Older
reports have a single table ``Full Name / User Action / Timestamp``. Labels, units and dates follow the
downloader's locale: English and French labels are known, other languages fall back to the column
positions; the day/month order is decided from the dates in the file (read twice, never held whole).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import pyarrow as pa

from auditor.errors import InputError
from auditor.io.times import parse_clock, parse_datetime
from auditor.sources.base import Head, ParseContext, Parser, Source
from auditor.sources.registry import register

APPLICATION = "MicrosoftTeams"
ATTENDANCE = "meeting-attendance"
JOIN_LEAVE = "meeting-join-leave"

SECTIONS = {
    "summary": ("summary", "résumé", "resume"),
    "participants": ("participants",),
    "activities": ("in-meeting activities", "activités en réunion", "activités de la réunion",
                   "activités pendant la réunion"),
}
SECTION_BY_NUMBER = {"1": "summary", "2": "participants", "3": "activities"}

SUMMARY_KEYS = {
    "title": ("meeting title", "titre de la réunion"),
    "attended": ("attended participants", "participants présents", "participants ayant assisté"),
    "start": ("start time", "meeting start time", "heure de début", "heure de début de la réunion"),
    "end": ("end time", "meeting end time", "heure de fin", "heure de fin de la réunion"),
    "duration": ("meeting duration", "durée de la réunion"),
    "average": ("average attendance time", "durée moyenne de présence", "temps de présence moyen"),
}

COLUMNS = {
    "name": ("name", "nom", "full name", "nom complet"),
    "join": ("first join", "join time", "première arrivée", "heure d'arrivée", "heure de participation"),
    "leave": ("last leave", "leave time", "dernier départ", "heure de départ"),
    "duration": ("in-meeting duration", "duration", "durée de la réunion", "durée", "durée en réunion"),
    "email": ("email", "e-mail", "adresse e-mail", "adresse de messagerie"),
    "upn": ("participant id (upn)", "id du participant (upn)", "id de participant (upn)"),
    "role": ("role", "rôle"),
    "user_action": ("user action", "action de l'utilisateur", "activité de l'utilisateur"),
    "timestamp": ("timestamp", "horodatage"),
}
POSITIONAL = {
    "participants": ("name", "join", "leave", "duration", "email", "upn", "role"),
    "activities": ("name", "join", "leave", "duration", "email", "role"),
}
LEGACY = ("name", "user_action", "timestamp")

UNITS = {
    3600: ("h", "hr", "hrs", "hour", "hours", "heure", "heures", "godz"),
    60: ("m", "min", "mins", "minute", "minutes", "mn"),
    1: ("s", "sec", "secs", "second", "seconds", "seconde", "secondes"),
}
_UNIT_SECONDS = {unit: seconds for seconds, units in UNITS.items() for unit in units}
_DURATION = re.compile(r"^(?:\s*\d+\s*[^\W\d_]+\.?)+\s*$")
_DURATION_PART = re.compile(r"(\d+)\s*([^\W\d_]+)\.?")
_CLOCK_DURATION = re.compile(r"^(\d{1,3}):(\d{2})(?::(\d{2}))?$")
_SECTION = re.compile(r"^(\d+)\.\s*(\S.*)$")
_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_AMPM = re.compile(r"\d\s*[AP]\.?M\.?\s*$")


def _norm(label: str) -> str:
    text = unicodedata.normalize("NFC", label).replace("’", "'").replace("\u00a0", " ")
    return " ".join(text.strip().strip(":").split()).lower()


def _lookup(table: Mapping[str, Sequence[str]], label: str) -> str | None:
    key = _norm(label)
    return next((name for name, synonyms in table.items() if key in synonyms), None)


def _section(line: str) -> str | None:
    """``1. Summary`` → ``summary``; an unknown title is known by its number, else ``unknown``."""
    if "\t" in line.rstrip("\t "):
        return None
    match = _SECTION.match(line.strip().lstrip("\ufeff").rstrip("\t ").strip())
    if not match:
        return None
    return _lookup(SECTIONS, match.group(2)) or SECTION_BY_NUMBER.get(match.group(1), "unknown")


def _header(cells: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = _lookup(COLUMNS, cell)
        if name and name not in index:
            index[name] = position
    return index


def _legacy(cells: Sequence[str]) -> dict[str, int] | None:
    index = _header(cells)
    return index if all(c in index for c in LEGACY) and len(cells) <= len(LEGACY) + 2 else None


def parse_duration(text: str) -> float | None:
    """``10m 59s``, ``1h 2m 3s``, ``45s``, ``1 h 2 min``, ``00:47:03``, ``2820`` → seconds; None if unreadable."""
    text = text.strip().lower()
    if text.isdigit():
        return float(text)
    clock = _CLOCK_DURATION.match(text)
    if clock:
        parts = [int(p) for p in clock.groups() if p is not None]
        if len(parts) == 2:
            parts.insert(0, 0)
        return float(parts[0] * 3600 + parts[1] * 60 + parts[2])
    if not _DURATION.match(text):
        return None
    total = 0
    for amount, unit in _DURATION_PART.findall(text):
        if unit not in _UNIT_SECONDS:
            return None
        total += int(amount) * _UNIT_SECONDS[unit]
    return float(total)


def format_duration(seconds: float) -> str:
    """Teams' own form: ``1h 2m 3s``, ``10m 59s``, ``45s``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _date_order(lines: Iterator[tuple[int, str]]) -> tuple[bool, str] | None:
    """(month first?, basis) from every date cell of the file; None when it holds no such date."""
    seen = twelve_hour = False
    for _, line in lines:
        for cell in line.split("\t"):
            match = _DATE.match(cell)
            if not match:
                continue
            seen = True
            first, second = int(match.group(1)), int(match.group(2))
            if first > 12:
                return False, "values"
            if second > 12:
                return True, "values"
            twelve_hour = twelve_hour or bool(_AMPM.search(cell.strip()))
    if not seen:
        return None
    return (True, "12-hour clock") if twelve_hour else (False, "default (assumed)")


@register
class TeamsAttendance(Parser):
    name = "teams-attendance"
    kind = "activity_events"
    tool = "microsoft-teams"
    patterns = ("*attendance*.csv", "*.csv")
    title: ClassVar[dict[str, str]] = {
        "fr": "Microsoft Teams : rapport de présence à une réunion",
        "en": "Microsoft Teams: meeting attendance report",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Le rapport ne couvre qu’une réunion et ne dit pas ce que chacun y a fait (parole, caméra, "
              "conversation). Les heures sont celles du fuseau et du format de date de la personne qui l’a "
              "téléchargé, sans que le fichier le précise. Un invité sans compte n’apparaît que sous le nom "
              "qu’il a saisi. Les connexions très brèves ou par téléphone peuvent manquer.",
        "en": "The report covers one meeting and does not say what anyone did in it (speaking, camera, "
              "chat). Times follow the time zone and date format of whoever downloaded it, and the file "
              "does not say which. A guest without an account appears only under the name they typed. "
              "Very short or phone connections may be missing.",
    }
    roundtrip_fields = ("agent", "time", "application", "action", "object", "duration_s")

    def sniff(self, head: Head) -> float:
        lines = [line.lstrip("\ufeff") for line in head.text.splitlines() if line.strip(" \t\ufeff")]
        if not lines:
            return 0.0
        utf16 = head.encoding.name.startswith("utf-16")
        first = lines[0].rstrip("\t ").strip()
        if _norm(first) in ("1. summary", "1. résumé") or _legacy(lines[0].split("\t")) is not None:
            return 0.95 if utf16 else 0.8
        if utf16 and _SECTION.match(first) and any(line.startswith("2.") for line in lines[1:]):
            return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        order = _date_order(source.lines(ctx))
        monthfirst = bool(order and order[0])
        if order:
            ctx.notes["date_order"] = {"order": "month-first" if monthfirst else "day-first", "basis": order[1]}
        reader = _Reader(self, source, ctx, monthfirst)
        yield from reader.run()

    # --- writer ----------------------------------------------------------------------------------
    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """English three-section report: UTF-16 LE with BOM, CRLF, ``dd/mm/yy, HH:MM:SS`` Paris times."""
        from auditor.testing.strategies import PARIS

        def stamp(value: datetime) -> str:
            return value.astimezone(PARIS).strftime("%d/%m/%y, %H:%M:%S")

        def leave(row: Mapping[str, Any]) -> datetime:
            when: datetime = row["time"]
            return when + timedelta(seconds=float(row.get("duration_s") or 0))

        people = [r for r in rows if r.get("action") != JOIN_LEAVE]
        moves = [r for r in rows if r.get("action") == JOIN_LEAVE]
        title = next((str(r["object"]) for r in rows if r.get("object")), "Réunion")
        lines = ["1. Summary", f"Meeting title\t{title}", f"Attended participants\t{len({r['agent'] for r in people})}"]
        if rows:
            start = min(r["time"] for r in rows)
            end = max(leave(r) for r in rows)
            durations = [float(r["duration_s"]) for r in people if r.get("duration_s") is not None]
            lines += [f"Start time\t{stamp(start)}", f"End time\t{stamp(end)}",
                      f"Meeting duration\t{format_duration((end - start).total_seconds())}"]
            if durations:
                lines.append(f"Average attendance time\t{format_duration(sum(durations) / len(durations))}")
        lines += ["", "2. Participants",
                  "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"]
        for number, row in enumerate(people):
            name, email = _display(str(row["agent"]))
            duration = format_duration(float(row["duration_s"])) if row.get("duration_s") is not None else ""
            role = "Organizer" if number == 0 else "Attendee"
            lines.append(f"{name}\t{stamp(row['time'])}\t{stamp(leave(row))}\t{duration}\t{email}\t{email}\t{role}")
        lines += ["", "3. In-Meeting Activities", "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole"]
        for row in moves:
            name, email = _display(str(row["agent"]))
            duration = format_duration(float(row["duration_s"])) if row.get("duration_s") is not None else ""
            lines.append(f"{name}\t{stamp(row['time'])}\t{stamp(leave(row))}\t{duration}\t{email}\tAttendee")
        return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")

    def synth_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """One attendance report holds one meeting: the first meeting's participants."""
        meetings = [r for r in rows if r.get("action") == ATTENDANCE]
        first = min(meetings, key=lambda r: r["time"], default=None)
        if first is None:
            return []
        return [r for r in meetings if r["object"] == first["object"] and r["time"].date() == first["time"].date()]

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import french_text, instants, through_wall_clock

        email = st.from_regex(r"[a-z]{1,8}\.[a-z]{2,10}@[a-z]{3,8}\.fr", fullmatch=True)
        return st.fixed_dictionaries({
            "agent": st.one_of(email, french_text(3, 30, extra=" -")),
            "time": instants("s").map(through_wall_clock),
            "application": st.just(APPLICATION),
            "action": st.just(ATTENDANCE),
            "object": st.just("Point d’équipe hebdomadaire"),
            "duration_s": st.none() | st.integers(min_value=0, max_value=10 * 3600).map(float),
        })


def _display(agent: str) -> tuple[str, str]:
    """(display name, email) for a canonical agent: an address gives a name, a name has no address."""
    if "@" not in agent:
        return agent, ""
    local = agent.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or local, agent


class _Reader:
    """The section state machine of one report."""

    def __init__(self, parser: TeamsAttendance, source: Source, ctx: ParseContext, monthfirst: bool) -> None:
        self.parser, self.source, self.ctx, self.monthfirst = parser, source, ctx, monthfirst
        self.builder = ctx.builder(parser.kind)
        self.section: str | None = None
        self.columns: dict[str, int] | None = None
        self.meeting: dict[str, str] = {}
        self.start_day: date | None = None
        self.unreadable_durations = 0

    def run(self) -> Iterator[pa.RecordBatch]:
        for number, line in self.source.lines(self.ctx):
            line = line.lstrip("\ufeff")
            if not line.strip(" \t"):
                continue
            section = _section(line)
            if section is not None:
                self.section, self.columns = section, None
                continue
            values = self._line(number, line)
            if values is None:
                continue
            batch = self.builder.add(number, values, raw=line)
            if batch is not None:
                yield batch
        if self.section is None:
            raise InputError("csv-header-missing", self.source.name)
        yield from self.builder.finish()
        if self.meeting:
            self.ctx.notes["meeting"] = self.meeting
        if self.unreadable_durations:
            self.ctx.notes["unreadable_durations"] = self.unreadable_durations

    def _line(self, number: int, line: str) -> dict[str, Any] | None:
        cells = [c.strip() for c in line.split("\t")]
        if self.section is None:
            legacy = _legacy(cells)
            if legacy is None:
                raise InputError("csv-header-missing", self.source.name, number)
            self.section, self.columns = "legacy", legacy
            return None
        if self.section == "summary":
            self._summary(cells)
            return None
        if self.section == "unknown":
            self.ctx.rows_in += 1
            self.ctx.reject(number, "row-malformed", line, detail="unknown section")
            return None
        if self.columns is None:
            self.columns = self._columns(cells, number)
            return None
        self.ctx.rows_in += 1
        return self._record(number, line, cells, self.columns)

    def _summary(self, cells: Sequence[str]) -> None:
        key = _lookup(SUMMARY_KEYS, cells[0]) or cells[0]
        value = next((c for c in cells[1:] if c), "")
        self.meeting[key] = value
        if key == "start":
            start = parse_datetime(value, monthfirst=self.monthfirst)
            self.start_day = start.date() if start else None

    def _columns(self, cells: Sequence[str], number: int) -> dict[str, int]:
        index = _header(cells)
        if "name" in index and "join" in index:
            return index
        positional = POSITIONAL.get(self.section or "")
        if positional and len(cells) == len(positional):
            self.ctx.notes["columns_by_position"] = True
            return {name: i for i, name in enumerate(positional)}
        wanted = "Name, First Join" if self.section == "participants" else "Name, Join Time"
        raise InputError("csv-header-unmapped", self.source.name, number, fields=wanted,
                         header="\t".join(cells)[:200])

    def _record(
        self, number: int, line: str, cells: Sequence[str], columns: Mapping[str, int]
    ) -> dict[str, Any] | None:
        ctx = self.ctx
        width = max(columns.values()) + 1
        time_column = "timestamp" if self.section == "legacy" else "join"
        if len(cells) <= max(columns["name"], columns[time_column]) or any(cells[width:]):
            ctx.reject(number, "row-field-count", line, found=len(cells), expected=width)
            return None

        def cell(name: str) -> str:
            position = columns.get(name)
            return cells[position] if position is not None and position < len(cells) else ""

        stamp = cell(time_column)
        when = self._when(stamp)
        try:
            when = ctx.time(when)
        except (OverflowError, ValueError):
            when = None
        if when is None:
            ctx.reject(number, "row-time-invalid", line, field=time_column, value=stamp[:40])
            return None
        address = (cell("email") or cell("upn")).lower()
        values: dict[str, Any] = {
            "agent": address or cell("name"),
            "time": when,
            "application": APPLICATION,
            "object": self.meeting.get("title") or None,
        }
        if self.section == "legacy":
            values["action"] = _legacy_action(cell("user_action"))
            values["detail"] = cell("user_action") or None
            return values
        text = cell("duration")
        duration = parse_duration(text) if text else None
        if text and duration is None:
            self.unreadable_durations += 1
        leave, role = cell("leave"), cell("role")
        first = "last leave" if self.section == "participants" else "leave"
        parts = [f"{first} {leave}" if leave else "", f"role {role}" if role else ""]
        values["action"] = ATTENDANCE if self.section == "participants" else JOIN_LEAVE
        values["duration_s"] = duration
        values["detail"] = ", ".join(p for p in parts if p) or None
        return values

    def _when(self, text: str) -> datetime | None:
        if not text:
            return None
        value = parse_datetime(text, monthfirst=self.monthfirst)
        if value is None and self.start_day is not None:
            clock = parse_clock(text)
            value = datetime.combine(self.start_day, clock) if clock else None
        return value


def _legacy_action(text: str) -> str:
    key = _norm(text)
    if key.startswith(("joined", "a rejoint", "rejoint")):
        return "meeting-join"
    if key.startswith(("left", "a quitté", "quitté", "parti")):
        return "meeting-leave"
    return key or "meeting-event"
