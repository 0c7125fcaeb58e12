"""Teams attendance report: UTF-16 sections, locale dates and labels, durations, the legacy layout."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.teams_attendance import TeamsAttendance, format_duration, parse_duration
from tests.conftest import real_exports

PARSER = TeamsAttendance()

ENGLISH = [
    "1. Summary",
    "Meeting title\tPoint d’équipe",
    "Attended participants\t2",
    "Start time\t15/11/22, 09:30:47",
    "End time\t15/11/22, 10:31:02",
    "Meeting duration\t1h 0m 15s",
    "Average attendance time\t35m 37s",
    "",
    "2. Participants",
    "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
    "Hari Heera\t15/11/22, 09:30:47\t15/11/22, 10:31:02\t1h 0m 15s\tHari.Heera@ville.fr\thari.heera@ville.fr"
    "\tOrganizer",
    "Invité Bob\t15/11/22, 09:35:00\t15/11/22, 09:45:59\t10m 59s\t\t\tAttendee",
    "",
    "3. In-Meeting Activities",
    "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
    "Hari Heera\t15/11/22, 09:30:47\t15/11/22, 10:00:00\t29m 13s\tHari.Heera@ville.fr\tOrganizer",
    "Hari Heera\t15/11/22, 10:05:00\t15/11/22, 10:31:02\t26m 2s\tHari.Heera@ville.fr\tOrganizer",
    "Invité Bob\t15/11/22, 09:35:00\t15/11/22, 09:45:59\t45s\t\tAttendee",
]


def _utf16(lines: list[str]) -> bytes:
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


def _load(data: bytes | list[str], name: str = "meetingAttendanceReport.csv") -> Dataset:
    raw = _utf16(data) if isinstance(data, list) else data
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=PARSER.name))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["activity_events"].to_pylist() if "activity_events" in dataset.tables else []


def _head(data: bytes, name: str = "export.csv") -> Head:
    return Head.of(data, name, complete=True)


# --- sniff --------------------------------------------------------------------------------------

def test_sniff_claims_the_reports() -> None:
    assert PARSER.sniff(_head(_utf16(ENGLISH))) == 0.95
    assert PARSER.sniff(_head(_utf16(["1. Résumé", "Titre de la réunion\tX"]))) == 0.95
    assert PARSER.sniff(_head(_utf16(["Full Name\tUser Action\tTimestamp", "A\tJoined\t3/19/2020, 10:02:31 AM"])))\
        == 0.95
    assert PARSER.sniff(_head(("\r\n".join(ENGLISH)).encode("utf-8"))) == 0.8
    assert PARSER.sniff(_head(_utf16(["1. Zusammenfassung", "Besprechungstitel\tX", "", "2. Teilnehmer"]))) == 0.6
    found = registry.detect(Source.from_bytes(_utf16(ENGLISH), "meetingAttendanceReport.csv"))
    assert (found.parser, found.kind, found.ambiguous) == ("teams-attendance", "activity_events", False)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"Name;Email;Duration\r\nHari;hari@x.fr;10\r\n",
        _utf16(["Name\tEmail\tDuration", "Hari\thari@x.fr\t10m"]),
        _utf16(["Name\tAction\tTimestamp", "Hari\tJoined\t3/19/2020, 10:02:31 AM"]),
        b"CreationDate,UserIds,Operations,AuditData\r\n",
        b"        5\t2020-02-24 10:52:43\t1\t0\t1\t0\n",
        b"1. Summary of the minutes\n",
        b"BEGIN:VCALENDAR\r\n",
    ],
)
def test_sniff_refuses_other_files(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_sniff_refuses_every_real_export() -> None:
    for family in ("web", "gpx", "ics", "google"):
        for path in real_exports(family):
            assert PARSER.sniff(Source.from_path(path).head) == 0.0, path.name


# --- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m 59s", 659), ("1h 2m 3s", 3723), ("45s", 45), ("1h", 3600), ("1h 25m 0s", 5100),
     ("10 min 59 s", 659), ("1 h 2 min 3 s", 3723), ("2 godz. 5 min", 7500), ("00:47:03", 2823),
     ("47:03", 2823), ("2820", 2820)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "garbage", "10 parsecs", "15/11/22, 09:30:47", "1h x"])
def test_unreadable_durations_are_none_not_zero(text: str) -> None:
    assert parse_duration(text) is None


def test_format_duration_is_teams_own_form() -> None:
    assert [format_duration(s) for s in (45, 659, 3723, 5100, 0)] == ["45s", "10m 59s", "1h 2m 3s", "1h 25m 0s", "0s"]


# --- parse --------------------------------------------------------------------------------------

def test_three_sections_to_exact_rows() -> None:
    dataset = _load(ENGLISH)
    keys = ("agent", "time", "application", "action", "object", "duration_s", "detail", "source_row")
    got = [tuple(r[k] for k in keys) for r in _rows(dataset)]
    title = "Point d’équipe"
    assert got == [
        ("hari.heera@ville.fr", datetime(2022, 11, 15, 8, 30, 47, tzinfo=UTC), "MicrosoftTeams",
         "meeting-attendance", title, 3615.0, "last leave 15/11/22, 10:31:02, role Organizer", 11),
        ("Invité Bob", datetime(2022, 11, 15, 8, 35, tzinfo=UTC), "MicrosoftTeams", "meeting-attendance", title,
         659.0, "last leave 15/11/22, 09:45:59, role Attendee", 12),
        ("hari.heera@ville.fr", datetime(2022, 11, 15, 8, 30, 47, tzinfo=UTC), "MicrosoftTeams",
         "meeting-join-leave", title, 1753.0, "leave 15/11/22, 10:00:00, role Organizer", 16),
        ("hari.heera@ville.fr", datetime(2022, 11, 15, 9, 5, tzinfo=UTC), "MicrosoftTeams", "meeting-join-leave",
         title, 1562.0, "leave 15/11/22, 10:31:02, role Organizer", 17),
        ("Invité Bob", datetime(2022, 11, 15, 8, 35, tzinfo=UTC), "MicrosoftTeams", "meeting-join-leave", title,
         45.0, "leave 15/11/22, 09:45:59, role Attendee", 18),
    ]
    prov = dataset.provenance[0]
    assert prov.notes["meeting"] == {"title": title, "attended": "2", "start": "15/11/22, 09:30:47",
                                     "end": "15/11/22, 10:31:02", "duration": "1h 0m 15s", "average": "35m 37s"}
    assert prov.notes["date_order"] == {"order": "day-first", "basis": "values"}
    assert (prov.rows_in, prov.rows_parsed, prov.rows_rejected) == (5, 5, 0)
    assert prov.warnings == {"timezone-missing": 5}


def _us(lines: list[str]) -> list[str]:
    swap = {"15/11/22, 09:30:47": "11/15/2022, 9:30:47 AM", "15/11/22, 10:31:02": "11/15/2022, 10:31:02 AM",
            "15/11/22, 09:35:00": "11/15/2022, 9:35:00 AM", "15/11/22, 09:45:59": "11/15/2022, 9:45:59 AM",
            "15/11/22, 10:00:00": "11/15/2022, 10:00:00 AM", "15/11/22, 10:05:00": "11/15/2022, 10:05:00 AM"}
    out = []
    for line in lines:
        for old, new in swap.items():
            line = line.replace(old, new)
        out.append(line)
    return out


def test_us_dates_are_recognised_from_the_values() -> None:
    dataset = _load(_us(ENGLISH))
    assert [r["time"] for r in _rows(dataset)][:2] == [datetime(2022, 11, 15, 8, 30, 47, tzinfo=UTC),
                                                       datetime(2022, 11, 15, 8, 35, tzinfo=UTC)]
    assert dataset.provenance[0].notes["date_order"] == {"order": "month-first", "basis": "values"}


def test_ambiguous_dates_default_to_day_first_and_say_so() -> None:
    lines = ["2. Participants", "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
             "A\t05/11/22, 09:30:47\t05/11/22, 10:00:00\t29m 13s\ta@x.fr\ta@x.fr\tOrganizer"]
    dataset = _load(lines)
    assert _rows(dataset)[0]["time"] == datetime(2022, 11, 5, 8, 30, 47, tzinfo=UTC)
    assert dataset.provenance[0].notes["date_order"] == {"order": "day-first", "basis": "default (assumed)"}
    us = [line.replace("09:30:47", "9:30:47 AM").replace("10:00:00", "10:00:00 AM") for line in lines]
    dataset = _load(us)
    assert _rows(dataset)[0]["time"] == datetime(2022, 5, 11, 7, 30, 47, tzinfo=UTC)
    assert dataset.provenance[0].notes["date_order"] == {"order": "month-first", "basis": "12-hour clock"}


def test_french_labels_and_units() -> None:
    lines = [
        "1. Résumé",
        "Titre de la réunion\tCSE extraordinaire",
        "Heure de début\t15/11/2022 09:30:47",
        "Durée de la réunion\t1 h 0 min 15 s",
        "",
        "2. Participants",
        "Nom\tPremière arrivée\tDernier départ\tDurée de la réunion\tAdresse e-mail\tID du participant (UPN)\tRôle",
        "Anne Ré\t15/11/2022 09:30:47\t15/11/2022 10:31:02\t1 h 0 min 15 s\tanne.re@ville.fr\t\tOrganisateur",
        "",
        "3. Activités en réunion",
        "Nom\tHeure d’arrivée\tHeure de départ\tDurée\tAdresse e-mail\tRôle",
        "Anne Ré\t15/11/2022 09:30:47\t15/11/2022 09:41:46\t10 min 59 s\tanne.re@ville.fr\tOrganisateur",
    ]
    rows = _rows(_load(lines))
    assert [(r["agent"], r["action"], r["object"], r["duration_s"], r["detail"]) for r in rows] == [
        ("anne.re@ville.fr", "meeting-attendance", "CSE extraordinaire", 3615.0,
         "last leave 15/11/2022 10:31:02, role Organisateur"),
        ("anne.re@ville.fr", "meeting-join-leave", "CSE extraordinaire", 659.0,
         "leave 15/11/2022 09:41:46, role Organisateur"),
    ]


def test_unknown_language_falls_back_to_column_positions() -> None:
    lines = ["1. Zusammenfassung", "Besprechungstitel\tJour fixe", "", "2. Teilnehmer",
             "Vorname\tErster Beitritt\tLetztes Verlassen\tDauer\tE-Mail\tTeilnehmer-ID (UPN)\tRolle",
             "A\t15.11.22, 09:30:47\t15.11.22, 10:00:00\t29 Min. 13 Sek.\ta@x.de\ta@x.de\tOrganisator"]
    dataset = _load(lines)
    rows = _rows(dataset)
    assert [(r["agent"], r["time"], r["action"]) for r in rows] == [
        ("a@x.de", datetime(2022, 11, 15, 8, 30, 47, tzinfo=UTC), "meeting-attendance")]
    assert rows[0]["duration_s"] is None  # "Min."/"Sek." are not known units: unknown, not zero
    assert dataset.provenance[0].notes["columns_by_position"] is True
    assert dataset.provenance[0].notes["unreadable_durations"] == 1
    assert dataset.provenance[0].notes["meeting"] == {"Besprechungstitel": "Jour fixe"}


def test_legacy_single_table_report() -> None:
    lines = ["Full Name\tUser Action\tTimestamp",
             "Hari Heera\tJoined\t3/19/2020, 10:02:31 AM",
             "Hari Heera\tLeft\t3/19/2020, 11:15:00 AM",
             "Bob\tJoined before\t3/19/2020, 9:59:00 AM"]
    dataset = _load(lines)
    assert [(r["agent"], r["time"], r["action"], r["object"], r["detail"]) for r in _rows(dataset)] == [
        ("Hari Heera", datetime(2020, 3, 19, 9, 2, 31, tzinfo=UTC), "meeting-join", None, "Joined"),
        ("Hari Heera", datetime(2020, 3, 19, 10, 15, tzinfo=UTC), "meeting-leave", None, "Left"),
        ("Bob", datetime(2020, 3, 19, 8, 59, tzinfo=UTC), "meeting-join", None, "Joined before"),
    ]
    assert dataset.provenance[0].notes["date_order"] == {"order": "month-first", "basis": "values"}


def test_time_only_cells_take_the_meeting_date() -> None:
    lines = ["1. Summary", "Meeting title\tX", "Start time\t6/15/26, 9:30:00 AM", "", "2. Participants",
             "Name\tFirst Join\tLast Leave\tIn-Meeting Duration", "Seshadri Rajan\t9:30 AM\t11:58 AM\t2h 28m"]
    rows = _rows(_load(lines))
    assert [(r["agent"], r["time"], r["duration_s"]) for r in rows] == [
        ("Seshadri Rajan", datetime(2026, 6, 15, 7, 30, tzinfo=UTC), 8880.0)]


def test_bad_lines_are_rejected_and_unknown_sections_are_not_lost() -> None:
    lines = [
        *ENGLISH[:11],
        "Sans date\tnot a date\t\t45s\t\t\tAttendee",
        "Seul",
        "Trop\t15/11/22, 09:30:47\t\t\t\t\t\tAttendee\tsurplus",
        "\t15/11/22, 09:30:47\t\t\t\t\tAttendee",
        "",
        "4. Engagement",
        "Name\tReactions",
        "Hari Heera\t3",
    ]
    dataset = _load(lines)
    assert [r["source_row"] for r in _rows(dataset)] == [11]
    rejects = [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]
    assert rejects == [
        (12, "row-time-invalid", {"field": "join", "value": "not a date"}),
        (13, "row-field-count", {"found": 1, "expected": 7}),
        (14, "row-field-count", {"found": 9, "expected": 7}),
        (15, "row-required-missing", {"field": "agent"}),
        (18, "row-malformed", {"detail": "unknown section"}),
        (19, "row-malformed", {"detail": "unknown section"}),
    ]
    assert dataset.provenance[0].balanced


def test_files_that_are_not_reports_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        _load(["Name\tEmail", "Hari\thari@x.fr"])
    assert caught.value.code == "csv-header-missing"
    with pytest.raises(InputError) as caught:
        _load(["2. Participants", "Foo\tBar", "a\tb"])
    assert caught.value.code == "csv-header-unmapped"


# --- render -------------------------------------------------------------------------------------

def test_render_writes_the_three_sections_and_reads_back() -> None:
    rows = [
        {"agent": "hari.heera@ville.fr", "time": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
         "application": "MicrosoftTeams", "action": "meeting-attendance", "object": "Point d’équipe",
         "duration_s": 659.0},
        {"agent": "Invité Bob", "time": datetime(2026, 3, 29, 7, 0, tzinfo=UTC), "application": "MicrosoftTeams",
         "action": "meeting-attendance", "object": "Point d’équipe", "duration_s": None},
        {"agent": "hari.heera@ville.fr", "time": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
         "application": "MicrosoftTeams", "action": "meeting-join-leave", "object": "Point d’équipe",
         "duration_s": 3723.0},
    ]
    data = PARSER.render(rows)
    assert data.startswith(b"\xff\xfe")
    text = data[2:].decode("utf-16-le")
    assert text.splitlines()[:2] == ["1. Summary", "Meeting title\tPoint d’équipe"]
    assert "Hari Heera\t29/03/26, 03:30:00\t29/03/26, 03:40:59\t10m 59s\thari.heera@ville.fr\t" in text
    assert "1h 2m 3s" in text and "3. In-Meeting Activities" in text
    got = _rows(_load(data))
    for want, row in zip(rows, got, strict=True):
        assert {k: row[k] for k in PARSER.roundtrip_fields} == want


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mutated_files_only_raise_input_error(data: st.DataObject) -> None:
    raw = bytearray(_utf16(ENGLISH))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at:at + data.draw(st.integers(0, 5))] = data.draw(st.binary(max_size=6))
        if not raw:
            break
    try:
        dataset = _load(bytes(raw))
    except InputError:
        return
    assert dataset.provenance[0].balanced
