"""iCalendar agendas: sniffing, one row per occurrence, time zones, the export window, real exports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Provenance
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.ical import ICalendar
from tests.conftest import real_exports

PARSER = ICalendar()


def _ics(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _event(*lines: str, uid: str = "e1") -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z", *lines, "END:VEVENT"]


def _calendar(*body: str, head: tuple[str, ...] = ()) -> bytes:
    return _ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//test//FR", *head, *body, "END:VCALENDAR")


def _load(raw: bytes, name: str = "agenda.ics", agent: str | None = None
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Provenance]:
    dataset = load([Source.from_bytes(raw, name)], ReadOptions(parser="icalendar", agent=agent))
    table = dataset.tables.get("appointments")
    rows = table.to_pylist() if table is not None else []
    return rows, dataset.rejects.to_pylist(), dataset.provenance[0]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Windows zone as Exchange writes it (Paris rules since 1996).
ROMANCE = (
    "BEGIN:VTIMEZONE", "TZID:Romance Standard Time",
    "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
    "END:VTIMEZONE",
)


# --- sniffing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
    b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    b"\r\n  \tbegin:vcalendar\nversion:2.0\n",
])
def test_sniff_recognises_a_calendar(raw: bytes) -> None:
    assert PARSER.sniff(Head.of(raw, "x.txt", complete=True)) >= 0.9


@pytest.mark.parametrize("raw", [
    b"Subject,Start Date,Start Time,End Date,End Time,All day event\r\n",
    b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="x">',
    b'{"semanticSegments": []}',
    b"1286536309.586    921 192.168.0.68 TCP_MISS/200 507 GET http://example.com/ - DIRECT/1.2.3.4 text/html\n",
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
    b"PRODID:x\r\nBEGIN:VCALENDAR\r\n",
    b"CreationDate,UserIds,Operations,AuditData\r\n",
])
def test_sniff_refuses_other_formats(raw: bytes) -> None:
    assert PARSER.sniff(Head.of(raw, "x.ics", complete=True)) == 0.0


def test_detection_picks_icalendar() -> None:
    found = registry.detect(Source.from_bytes(_calendar(), "export.ics"))
    assert (found.parser, found.kind) == ("icalendar", "appointments")


# --- fields -----------------------------------------------------------------------------------------


def test_a_small_export_gives_exact_rows() -> None:
    raw = _calendar(
        *_event(
            "DTSTART;TZID=Europe/Paris:20250115T090000", "DTEND;TZID=Europe/Paris:20250115T094500",
            "SUMMARY:  Entretien RSA ", "CATEGORIES:Accueil,RSA", "CATEGORIES:Urgent",
            "LOCATION:CCAS Lyon 3e ", "STATUS:CONFIRMED", "CREATED:20250110T083000Z",
            "ORGANIZER;CN=Secrétariat:mailto:secretariat@ville.fr",
            "ATTENDEE;CN=Marie Dupont:mailto:marie.dupont@ville.fr",
            "ATTENDEE;CN=Secrétariat:mailto:secretariat@ville.fr",
            "ATTENDEE;CN=M. Durand:mailto:durand@example.org",
            "ATTENDEE:mailto:petit@example.org",
        ),
        *_event("DTSTART:20250116T130000Z", "LOCATION: ", "X-MICROSOFT-CDO-BUSYSTATUS:OOF", uid="e2"),
        head=("X-WR-CALNAME:Marie Dupont",),
    )
    rows, rejects, provenance = _load(raw)
    assert rejects == []
    assert [{k: v for k, v in r.items() if k not in ("tool", "source_file")} for r in rows] == [
        {
            "agent": "Marie Dupont", "start": _utc(2025, 1, 15, 8), "end": _utc(2025, 1, 15, 8, 45),
            "all_day": False, "category": "Accueil, RSA, Urgent", "subject": "Entretien RSA",
            "person_received": "M. Durand; petit@example.org", "site": "CCAS Lyon 3e",
            "created_by": "Secrétariat", "created_at": _utc(2025, 1, 10, 8, 30), "status": "confirmed",
            "source_row": 5,
        },
        {
            "agent": "Marie Dupont", "start": _utc(2025, 1, 16, 13), "end": _utc(2025, 1, 16, 13),
            "all_day": False, "category": None, "subject": None, "person_received": None, "site": None,
            "created_by": None, "created_at": _utc(2025, 1, 1, 12), "status": "oof", "source_row": 22,
        },
    ]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (2, 2, 0)
    assert provenance.warnings == {}
    assert provenance.notes["agent_from"] == "X-WR-CALNAME"


def test_agent_is_the_dominant_organizer_without_a_calendar_name() -> None:
    organizer = "ORGANIZER;CN=Jeanne Martin:mailto:jeanne.martin@ville.fr"
    raw = _calendar(
        *_event("DTSTART:20250115T090000Z", organizer, "ATTENDEE;CN=Jeanne Martin:mailto:JEANNE.MARTIN@ville.fr",
                "ATTENDEE;CN=Mme Petit:mailto:petit@example.org", uid="a"),
        *_event("DTSTART:20250116T090000Z", organizer, uid="b"),
        *_event("DTSTART:20250117T090000Z", "ORGANIZER:mailto:chef@ville.fr", uid="c"),
    )
    rows, _, provenance = _load(raw, agent="fichier")
    assert {r["agent"] for r in rows} == {"Jeanne Martin"}
    assert rows[0]["person_received"] == "Mme Petit"
    assert [r["created_by"] for r in rows] == ["Jeanne Martin", "Jeanne Martin", "chef@ville.fr"]
    assert provenance.notes["agent_from"] == "ORGANIZER"


def test_agent_falls_back_to_the_file_name_when_no_organizer_dominates() -> None:
    raw = _calendar(
        *_event("DTSTART:20250115T090000Z", "ORGANIZER:mailto:a@ville.fr", uid="a"),
        *_event("DTSTART:20250116T090000Z", "ORGANIZER:mailto:b@ville.fr", uid="b"),
    )
    rows, _, _ = _load(raw, name="jdupont.ics")
    assert {r["agent"] for r in rows} == {"jdupont"}
    assert {r["agent"] for r in _load(raw, agent="forced")[0]} == {"forced"}


def test_a_folder_name_is_not_an_agent() -> None:
    raw = _calendar(*_event("DTSTART:20250115T090000Z"), head=("X-WR-CALNAME:Calendrier",))
    rows, _, provenance = _load(raw, name="jdupont.ics")
    assert rows[0]["agent"] == "jdupont"
    assert provenance.notes["calendar_name_ignored"] == "Calendrier"


# --- time zones -------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_vtimezone", [True, False])
def test_romance_standard_time_is_paris_with_or_without_its_vtimezone(with_vtimezone: bool) -> None:
    zone = ROMANCE if with_vtimezone else ()
    raw = _calendar(
        *zone,
        *_event("DTSTART;TZID=Romance Standard Time:20250115T090000",
                "DTEND;TZID=Romance Standard Time:20250115T100000", uid="winter"),
        *_event("DTSTART;TZID=Romance Standard Time:20250715T090000",
                "DTEND;TZID=Romance Standard Time:20250715T100000", uid="summer"),
    )
    rows, rejects, provenance = _load(raw)
    assert rejects == []
    assert [(r["start"], r["end"]) for r in rows] == [
        (_utc(2025, 1, 15, 8), _utc(2025, 1, 15, 9)),
        (_utc(2025, 7, 15, 7), _utc(2025, 7, 15, 8)),
    ]
    assert provenance.warnings == {}
    missing = provenance.notes.get("timezones_without_vtimezone")
    assert missing == (None if with_vtimezone else {"Romance Standard Time": {"read_as": "Europe/Paris", "count": 4}})


def test_an_unknown_tzid_is_read_in_the_export_zone_and_counted() -> None:
    raw = _calendar(*_event("DTSTART;TZID=Mairie Locale:20250715T090000",
                            "DTEND;TZID=Mairie Locale:20250715T100000"))
    rows, _, provenance = _load(raw)
    assert (rows[0]["start"], rows[0]["end"]) == (_utc(2025, 7, 15, 7), _utc(2025, 7, 15, 8))
    assert provenance.warnings == {"timezone-unknown": 2}
    assert provenance.notes["timezones_unknown"] == {"Mairie Locale": {"read_as": "Europe/Paris", "count": 2}}


def test_a_vtimezone_of_an_earlier_file_does_not_leak_into_the_next() -> None:
    custom = ("BEGIN:VTIMEZONE", "TZID:Zone Maison", "BEGIN:STANDARD", "DTSTART:19700101T000000",
              "TZOFFSETFROM:+0500", "TZOFFSETTO:+0500", "END:STANDARD", "END:VTIMEZONE")
    first = _calendar(*custom, *_event("DTSTART;TZID=Zone Maison:20250115T090000"))
    assert _load(first)[0][0]["start"] == _utc(2025, 1, 15, 4)
    second = _calendar(*_event("DTSTART;TZID=Zone Maison:20250115T090000"))
    rows, _, provenance = _load(second)
    assert rows[0]["start"] == _utc(2025, 1, 15, 8)
    assert provenance.warnings == {"timezone-unknown": 2}


def test_floating_times_are_local_and_x_wr_timezone_gives_them_a_zone() -> None:
    event = _event("DTSTART:20250715T090000", "DTEND:20250715T100000")
    rows, _, provenance = _load(_calendar(*event))
    assert rows[0]["start"] == _utc(2025, 7, 15, 7)
    assert provenance.warnings == {"timezone-missing": 2}
    rows, _, provenance = _load(_calendar(*event, head=("X-WR-TIMEZONE:America/New_York",)))
    assert rows[0]["start"] == _utc(2025, 7, 15, 13)
    assert provenance.warnings == {}


def test_a_dst_day() -> None:
    raw = _calendar(
        *_event("DTSTART;TZID=Europe/Paris:20250330T090000", "DTEND;TZID=Europe/Paris:20250330T100000", uid="a"),
        *_event("DTSTART;TZID=Europe/Paris:20250330T013000", "DTEND;TZID=Europe/Paris:20250330T033000", uid="b"),
        *_event("DTSTART:20250330T023000", uid="c"),  # floating, in the skipped hour
    )
    rows, _, provenance = _load(raw)
    assert [(r["start"], r["end"]) for r in rows] == [
        (_utc(2025, 3, 30, 7), _utc(2025, 3, 30, 8)),
        (_utc(2025, 3, 30, 0, 30), _utc(2025, 3, 30, 1, 30)),  # 1h30 → 3h30 lasts one hour
        (_utc(2025, 3, 30, 1, 30), _utc(2025, 3, 30, 1, 30)),  # 02:30 → 03:30 CEST, counted
    ]
    assert provenance.warnings == {"timezone-missing": 2, "dst-nonexistent": 2}


# --- all-day and missing ends -------------------------------------------------------------------------


def test_all_day_dtend_is_exclusive_and_defaults_to_one_day() -> None:
    raw = _calendar(
        *_event("DTSTART;VALUE=DATE:20250714", "DTEND;VALUE=DATE:20250715", "SUMMARY:Férié", uid="a"),
        *_event("DTSTART;VALUE=DATE:20250804", "DTEND;VALUE=DATE:20250809", "SUMMARY:Congés", uid="b"),
        *_event("DTSTART;VALUE=DATE:20251225", "SUMMARY:Noël", uid="c"),
    )
    rows, _, provenance = _load(raw)
    assert [(r["subject"], r["all_day"], r["start"], r["end"]) for r in rows] == [
        ("Férié", True, _utc(2025, 7, 13, 22), _utc(2025, 7, 14, 22)),
        ("Congés", True, _utc(2025, 8, 3, 22), _utc(2025, 8, 8, 22)),  # Monday to Friday, 5 days
        ("Noël", True, _utc(2025, 12, 24, 23), _utc(2025, 12, 25, 23)),
    ]
    assert provenance.warnings == {}


def test_duration_gives_the_end() -> None:
    rows, _, _ = _load(_calendar(*_event("DTSTART:20250115T090000Z", "DURATION:PT1H30M")))
    assert rows[0]["end"] == _utc(2025, 1, 15, 10, 30)


# --- recurrence -------------------------------------------------------------------------------------


def test_weekly_rrule_with_exdate_and_an_override() -> None:
    raw = _calendar(
        *_event("DTSTART;TZID=Europe/Paris:20250303T090000", "DTEND;TZID=Europe/Paris:20250303T100000",
                "RRULE:FREQ=WEEKLY;UNTIL=20250407T080000Z", "EXDATE;TZID=Europe/Paris:20250317T090000",
                "SUMMARY:Permanence", uid="weekly"),
        *_event("RECURRENCE-ID;TZID=Europe/Paris:20250324T090000",
                "DTSTART;TZID=Europe/Paris:20250325T140000", "DTEND;TZID=Europe/Paris:20250325T150000",
                "SUMMARY:Permanence déplacée", uid="weekly"),
    )
    rows, rejects, provenance = _load(raw)
    assert rejects == []
    assert [(r["start"], r["subject"], r["source_row"]) for r in rows] == [
        (_utc(2025, 3, 3, 8), "Permanence", 4),
        (_utc(2025, 3, 10, 8), "Permanence", 4),
        # 17 March excluded; 24 March moved to the 25th at 14:00 (its own line); 30 March: summer time
        (_utc(2025, 3, 25, 13), "Permanence déplacée", 13),
        (_utc(2025, 3, 31, 7), "Permanence", 4),
        (_utc(2025, 4, 7, 7), "Permanence", 4),
    ]
    assert provenance.warnings == {"recurrence-expanded": 4}
    assert provenance.rows_in == 5


def test_an_rrule_without_until_stops_at_the_export_date() -> None:
    raw = _ics("BEGIN:VCALENDAR", "VERSION:2.0",
               "BEGIN:VEVENT", "UID:r", "DTSTAMP:20250301T000000Z", "DTSTART:20250106T080000Z",
               "DTEND:20250106T090000Z", "RRULE:FREQ=WEEKLY", "END:VEVENT", "END:VCALENDAR")
    rows, _, provenance = _load(raw)
    assert [r["start"].day for r in rows] == [6, 13, 20, 27, 3, 10, 17, 24]
    assert provenance.notes["window"] == {"start": "2025-01-06T08:00:00+00:00", "end": "2025-03-01T00:00:00+00:00"}
    assert provenance.warnings == {"recurrence-expanded": 8}


def test_an_infinite_rrule_is_bounded_even_by_a_far_dtstamp() -> None:
    raw = _ics("BEGIN:VCALENDAR", "VERSION:2.0",
               "BEGIN:VEVENT", "UID:r", "DTSTAMP:20990101T000000Z", "DTSTART:20250106T080000Z",
               "RRULE:FREQ=DAILY", "END:VEVENT", "END:VCALENDAR")
    rows, _, provenance = _load(raw)
    assert provenance.notes["window"]["end"] == "2027-01-07T08:00:00+00:00"
    assert len(rows) == 732
    assert rows[-1]["start"] == _utc(2027, 1, 7, 8)


def test_a_count_rule_expands_past_the_export_date() -> None:
    raw = _ics("BEGIN:VCALENDAR", "VERSION:2.0",
               "BEGIN:VEVENT", "UID:r", "DTSTAMP:20250101T000000Z", "DTSTART:20250106T080000Z",
               "RRULE:FREQ=WEEKLY;COUNT=10", "END:VEVENT", "END:VCALENDAR")
    assert len(_load(raw)[0]) == 10


def test_an_absurd_expansion_is_refused() -> None:
    raw = _calendar(
        *_event("DTSTART:19000101T000000Z", "RRULE:FREQ=SECONDLY", uid="a"),
        *_event("DTSTART:20250101T000000Z", uid="b"),
    )
    with pytest.raises(InputError) as error:
        _load(raw)
    assert error.value.code == "ics-malformed"
    assert "repeat" in error.value.params["detail"]


def test_a_broken_event_is_rejected_and_the_others_kept() -> None:
    raw = _calendar(
        *_event("DTSTART:20250115T090000Z", "RRULE:FREQ=SOMETIMES;;=", uid="bad-rule"),
        *_event("DTSTART:2025-01-15", uid="bad-date"),
        *_event("SUMMARY:pas de début", uid="no-start"),
        *_event("DTSTART:20250116T090000Z", "SUMMARY:bon", uid="good"),
    )
    rows, rejects, provenance = _load(raw)
    assert [r["subject"] for r in rows] == ["bon"]
    assert [(r["source_row"], r["reason"]) for r in rejects] == [
        (4, "row-malformed"), (10, "row-time-invalid"), (15, "row-required-missing")]
    assert rejects[0]["raw"].startswith("BEGIN:VEVENT\nUID:bad-rule")
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (4, 1, 3)


def test_impossible_times_are_rejected_not_swapped_or_crashed() -> None:
    raw = _calendar(
        *_event("DTSTART:20250115T100000Z", "DTEND:20250115T090000Z", uid="backwards"),
        *_event("DTSTART:20250115T100000Z", "DURATION:-PT1H", uid="negative"),
        *_event("DTSTART:00010101T000000", uid="year-one"),
        *_event("DTSTART;VALUE=PERIOD:20250101T000000Z/PT1H", uid="period"),
        *_event("DTSTART:20250116T090000Z", uid="good"),
    )
    rows, rejects, provenance = _load(raw)
    assert len(rows) == 1
    assert [(r["reason"], r["params"]) for r in rejects] == [
        ("row-time-invalid", '{"field": "DTEND", "value": "2025-01-15 09:00:00+00:00"}'),
        ("row-time-invalid", '{"field": "DURATION", "value": "-1 day, 23:00:00"}'),
        ("row-time-invalid", '{"field": "DTSTART", "value": "0001-01-01 00:00:00"}'),
        ("row-time-invalid", rejects[3]["params"]),
    ]
    assert provenance.rows_in == 5


def test_events_sharing_a_uid_are_all_kept_and_fully_excluded_series_are_noted() -> None:
    raw = _calendar(
        *_event("DTSTART:20250101T090000Z", "SUMMARY:a", uid="same"),
        *_event("DTSTART:20250102T090000Z", "SUMMARY:b", uid="same"),
        *_event("DTSTART:20250103T090000Z", "RRULE:FREQ=DAILY;COUNT=2",
                "EXDATE:20250103T090000Z,20250104T090000Z", uid="gone"),
    )
    rows, _, provenance = _load(raw)
    assert [r["subject"] for r in rows] == ["a", "b"]
    assert provenance.notes["duplicate_uids"] == 1
    assert provenance.notes["events_without_occurrence"] == 1


# --- structure --------------------------------------------------------------------------------------


def test_todos_and_journals_are_not_appointments_but_are_noted() -> None:
    raw = _calendar("BEGIN:VTODO", "UID:t", "SUMMARY:Rappeler", "END:VTODO",
                    "BEGIN:VJOURNAL", "UID:j", "END:VJOURNAL", *_event("DTSTART:20250115T090000Z"))
    rows, _, provenance = _load(raw)
    assert len(rows) == 1
    assert provenance.notes["ignored_components"] == {"VJOURNAL": 1, "VTODO": 1}


@pytest.mark.parametrize("raw, line", [
    (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250101T090000Z\nEND:VEVENT\n", 1),
    (b"BEGIN:VCALENDAR\nEND:VCALENDAR\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250101T090000Z\n", 3),
])
def test_a_file_cut_short_is_refused_with_its_line(raw: bytes, line: int) -> None:
    with pytest.raises(InputError) as error:
        _load(raw)
    assert (error.value.code, error.value.line) == ("ics-malformed", line)
    assert "cut short" in error.value.params["detail"]


@pytest.mark.parametrize("raw", [
    b"BEGIN:VCALENDAR\nEND:VCALENDAR\nEND:VCALENDAR\n",
    b"nothing like a calendar\n",
    b"BEGIN:VCALENDAR\nDTSTART\n",
])
def test_unreadable_files_are_input_errors(raw: bytes) -> None:
    with pytest.raises(InputError) as error:
        _load(raw)
    assert error.value.code == "ics-malformed"


# --- writing ----------------------------------------------------------------------------------------


def test_render_writes_a_real_calendar_that_reads_back() -> None:
    row = {
        "agent": "marie.dupont", "start": _utc(2025, 3, 30, 7), "end": _utc(2025, 3, 30, 8), "all_day": False,
        "category": "Aide sociale à l’enfance", "subject": "Entretien", "person_received": "M. Durand; Mme Petit",
        "site": "CCAS Lyon 3e", "created_by": "accueil", "created_at": _utc(2025, 3, 1, 9), "status": "confirmed",
    }
    raw = PARSER.render([row])
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode()
    for piece in ("PRODID:", "VERSION:2.0", "X-WR-CALNAME:marie.dupont", "BEGIN:VTIMEZONE", "TZID:Europe/Paris",
                  "DTSTART;TZID=Europe/Paris:20250330T090000", "STATUS:CONFIRMED", "UID:", "DTSTAMP:",
                  "CREATED:20250301T090000Z"):
        assert piece in text
    rows, rejects, _ = _load(raw)
    assert rejects == []
    assert {k: rows[0][k] for k in row} == row


# --- real exports -----------------------------------------------------------------------------------

EXPECTED = {
    # file: (rows, rejects, warnings)
    "MA2.ics": (19, 0, {}),
    "bom_calendar.ics": (0, 0, {}),
    "issue_165_missing_event.ics": (14, 0, {"recurrence-expanded": 14}),
    "issue_722_missing_timezones.ics": (2, 2, {"recurrence-expanded": 2}),
    "multiple_calendar_components.ics": (3, 0, {}),
}


def test_every_real_export_is_read_or_refused_precisely() -> None:
    files = real_exports("ics")
    assert {f.name for f in files} >= {*EXPECTED, "small_bad_calendar.ics"}
    for path in files:
        if path.name == "small_bad_calendar.ics":
            with pytest.raises(InputError) as error:
                load([path], ReadOptions())
            assert (error.value.code, error.value.line) == ("ics-malformed", 1)
            continue
        assert registry.detect(Source.from_path(path)).parser == "icalendar", path.name
        rows, rejects, provenance = _load(path.read_bytes(), path.name)
        assert (len(rows), len(rejects), provenance.warnings) == EXPECTED[path.name], path.name


def _real(name: str) -> Path:
    path = next((p for p in real_exports("ics") if p.name == name), None)
    if path is None:
        pytest.skip(f"{name} is absent")
    return path


def test_ma2_values_with_leading_spaces_and_no_uid() -> None:
    rows, _, _ = _load(_real("MA2.ics").read_bytes(), "MA2.ics")
    first = rows[0]
    assert (first["subject"], first["site"], first["source_row"]) == ("Information technology in society", None, 25)
    assert (first["start"], first["end"]) == (_utc(2013, 11, 18, 9), _utc(2013, 11, 18, 11))  # Brussels, CET
    assert rows[1]["site"] == "S.H3228"
    assert {r["agent"] for r in rows} == {"MA2"}
    assert {r["created_at"] for r in rows} == {None}


def test_issue_165_exchange_zone_and_folded_rule_with_spaces() -> None:
    rows, _, _ = _load(_real("issue_165_missing_event.ics").read_bytes(), "issue_165.ics")
    assert rows[0]["start"] == _utc(2015, 7, 3, 8)  # 10:00 at GMT+0200 (daylight)
    assert rows[-1]["start"] == _utc(2015, 7, 22, 8)  # UNTIL is inclusive
    assert {r["start"].weekday() for r in rows} == {0, 1, 2, 3, 4}
    assert {r["source_row"] for r in rows} == {20}


def test_issue_722_iana_names_without_vtimezone_and_rdate_period() -> None:
    rows, rejects, provenance = _load(_real("issue_722_missing_timezones.ics").read_bytes(), "issue_722.ics")
    assert [(r["start"], r["end"]) for r in rows] == [
        (_utc(2014, 8, 29, 12), _utc(2014, 8, 29, 15)),  # 08:00 New York → 08:00 Los Angeles
        (_utc(2024, 9, 13, 10), _utc(2024, 9, 13, 12)),  # RDATE period, Berlin, PT2H
    ]
    assert [(r["source_row"], r["reason"]) for r in rejects] == [
        (9, "row-required-missing"), (15, "row-required-missing")]
    assert provenance.notes["ignored_components"] == {"VTODO": 1}
    assert provenance.notes["timezones_without_vtimezone"] == {
        "America/New_York": {"read_as": "America/New_York", "count": 1},
        "America/Los_Angeles": {"read_as": "America/Los_Angeles", "count": 1},
        "Europe/Berlin": {"read_as": "Europe/Berlin", "count": 2},  # both ends of the RDATE period
    }


def test_multiple_calendars_with_folded_names_and_all_day_events() -> None:
    rows, _, _ = _load(_real("multiple_calendar_components.ics").read_bytes(), "multi.ics")
    assert [(r["subject"], r["all_day"], r["start"], r["end"], r["source_row"]) for r in rows] == [
        ("Christmas Day", True, _utc(2003, 12, 24, 23), _utc(2003, 12, 25, 23), 11),
        ("Boxing Day", True, _utc(2003, 4, 30, 22), _utc(2003, 5, 1, 22), 53),
        ("Christmas again!", True, _utc(2003, 12, 24, 23), _utc(2003, 12, 25, 23), 74),
    ]
