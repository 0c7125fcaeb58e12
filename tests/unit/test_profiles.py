"""Profile-driven parsers: the shipped profiles on hand-written exports, sniffing, XLSX, render, validation."""

from __future__ import annotations

import codecs
import io
import json
import re
import struct
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.io import spreadsheet
from auditor.io.times import zone
from auditor.model import Dataset
from auditor.rules.yamlsafe import DocumentError
from auditor.schemas import schemas_dir
from auditor.sources import profiles, registry
from auditor.sources.base import HEAD_SIZE, Head, ParseContext, Source
from auditor.sources.profiles import ProfileParser, make_parser, normalise, profile_from_data
from tests.conftest import SAMPLES, real_exports
from tests.helpers import both_paths, fast_blocks

openpyxl = pytest.importorskip("openpyxl")

ESIRIUS, QMATIC, POSITIONS = "esirius-agenda-csv", "qmatic-statdb-csv", "positions-csv"
OURS = (ESIRIUS, QMATIC, POSITIONS)
BOOKKEEPING = ("tool", "source_file")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(data: bytes | str, name: str, parser: str | None = None, agent: str | None = None,
          encoding: str = "utf-8") -> Dataset:
    raw = data.encode(encoding) if isinstance(data, str) else data
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=parser, agent=agent))


def rows(dataset: Dataset, kind: str) -> list[dict[str, Any]]:
    table = dataset.tables.get(kind)
    got = table.to_pylist() if table is not None else []
    return [{k: v for k, v in r.items() if v is not None and k not in BOOKKEEPING} for r in got]


def rejects(dataset: Dataset) -> list[tuple[int, str, dict[str, Any]]]:
    return [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]


def sniff(name: str, raw: bytes, file: str = "export.csv") -> float:
    head = raw[:HEAD_SIZE]
    return registry.get(name).sniff(Head.of(head, file, complete=len(raw) <= HEAD_SIZE))


# --- the profiles themselves ----------------------------------------------------------------------

def test_profile_schema_is_a_valid_json_schema() -> None:
    schema = json.loads((schemas_dir() / "profile.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_shipped_profiles_are_registered() -> None:
    loaded = {p.name for p in profiles.load_all()}
    assert set(OURS) <= loaded
    for name in OURS:
        parser = registry.get(name)
        assert isinstance(parser, ProfileParser)
        assert parser.title["fr"] and parser.title["en"] and parser.blind_spots["fr"] and parser.blind_spots["en"]
        assert parser.roundtrip_fields


def test_readme_example_is_a_valid_profile() -> None:
    readme = (profiles.PROFILES_DIR / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    profile = profile_from_data(yaml.safe_load(block.group(1)), "README.md")
    parser = make_parser(profile)
    got = _parse_with(parser, "Matricule;Date;Heure;Sens;Lecteur\r\nA12;30/03/2025;08h05;E;Hall\r\n")
    assert got == [{"agent": "A12", "time": utc(2025, 3, 30, 6, 5), "direction": "in", "reader": "Hall",
                         "source_row": 2}]


def _parse_with(parser: ProfileParser, text: str, encoding: str = "utf-8") -> list[dict[str, Any]]:
    source = Source.from_bytes(text.encode(encoding), "test.csv")
    ctx = ParseContext(file="test.csv", tool=parser.tool, tz=zone(None), agent_hint="hint")
    out: list[dict[str, Any]] = []
    for batch in parser.parse(source, ctx):
        out.extend({k: v for k, v in r.items() if v is not None and k not in BOOKKEEPING} for r in batch.to_pylist())
    assert ctx.rows_in == ctx.rows_parsed + len(ctx.rejects)
    return out


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Heure début", "heure debut"), ("STAFF FIRST_NAME", "staff first name"), ("Date de création", "date de creation"),
     ("\ufeffPrécision (m)", "precision m"), ("  Staff.User--Name ", "staff user name"), ("Œuvre", "œuvre")],
)
def test_normalise(header: str, expected: str) -> None:
    assert normalise(header) == expected


BASE: dict[str, Any] = {
    "name": "test-clockings", "kind": "clock_events", "tool": "test",
    "title": {"fr": "Test", "en": "Test"}, "blind_spots": {"fr": "Rien", "en": "Nothing"},
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"fields": {"agent": {"headers": ["A"]}, "time": {"headers": ["T"], "type": "datetime"},
                     "colour": {"headers": ["C"]}}}, "not a field of clock_events"),
        ({"fields": {"agent": {"headers": ["A"]}, "time": {"column": "nowhere"}}}, "unknown column or field"),
        ({"fields": {"agent": {"headers": ["A"]}, "time": {"headers": ["T"]}}}, "cannot fill"),
        ({"fields": {"agent": {"headers": ["A", "T"]}, "time": {"headers": ["T"], "type": "datetime"}}},
         "also a synonym"),
        ({"fields": {"agent": {"headers": ["A"]}}}, "required by clock_events"),
        ({"columns": {"x": {"column": "y"}, "y": {"column": "x"}},
          "fields": {"agent": {"column": "x"}, "time": {"headers": ["T"], "type": "datetime"}}}, "refers to itself"),
        ({"fields": {"agent": {"headers": ["A"], "type": "integer", "map": {"1": "x"}},
                     "time": {"headers": ["T"], "type": "datetime"}}}, "'map' is for string columns"),
        ({"fields": {"agent": {"headers": []}, "time": {"headers": ["T"], "type": "datetime"}}}, "headers"),
        ({"name": "Not Kebab", "fields": {"agent": {"headers": ["A"]}, "time": {"headers": ["T"], "type": "datetime"}}},
         "name"),
        ({"columns": {"agent": {"headers": ["A"]}}, "fields": {"time": {"headers": ["T"], "type": "datetime"}},
          "when_absent": {"agent": "agent_hint"}}, "cannot be a canonical field name"),
    ],
)
def test_invalid_profiles_are_refused_with_a_reason(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(DocumentError) as error:
        profile_from_data({**BASE, **extra}, "bad.yaml")
    assert message in str(error.value)


# --- eSirius agenda -------------------------------------------------------------------------------

ESIRIUS_CSV = (
    "Date;Heure début;Heure fin;Agent;Guichet;Site;Motif;Usager;Statut;Créé par;Date de création\r\n"
    "30/03/2025;02:30;03:00;Dupont;G1;MDS Nord;RSA;Mme l’Œuvre;Honoré;accueil;01/03/2025 09:12\r\n"
    "31/03/2025;09h30;10h15;Dupont;;MDS Nord;Aide – 50 €;M. Cœur;Annulé;;\r\n"
    "32/03/2025;09:30;10:00;Martin;;MDS Sud;Logement;x;Annulé;;\r\n"
    "\r\n"
    "26/10/2025;02:30;;Martin;G2;;Accueil;;;;\r\n"
)
ESIRIUS_ROWS = [
    {"agent": "Dupont", "start": utc(2025, 3, 30, 1, 30), "end": utc(2025, 3, 30, 1, 0), "category": "RSA",
     "person_received": "Mme l’Œuvre", "site": "MDS Nord – G1", "created_by": "accueil",
     "created_at": utc(2025, 3, 1, 8, 12), "status": "Honoré", "source_row": 2},
    {"agent": "Dupont", "start": utc(2025, 3, 31, 7, 30), "end": utc(2025, 3, 31, 8, 15), "category": "Aide – 50 €",
     "person_received": "M. Cœur", "site": "MDS Nord", "status": "Annulé", "source_row": 3},
    {"agent": "Martin", "start": utc(2025, 10, 26, 0, 30), "category": "Accueil", "site": "G2", "source_row": 6},
]


def test_esirius_cp1252_export_to_exact_rows() -> None:
    raw = ESIRIUS_CSV.encode("cp1252")
    source = Source.from_bytes(raw, "agenda_mars.csv")
    assert registry.detect(source).parser == ESIRIUS
    got = parse(raw, "agenda_mars.csv")
    assert rows(got, "appointments") == ESIRIUS_ROWS
    assert rejects(got) == [(4, "row-time-invalid", {"field": "Date", "value": "32/03/2025"})]
    provenance = got.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (4, 3, 1)
    assert provenance.warnings["dst-nonexistent"] == 1 and provenance.warnings["dst-ambiguous"] == 1
    assert provenance.notes["dialect"] == {"delimiter": ";", "decimal": ",", "dayfirst": True}


def test_esirius_english_headers_comma_and_split_visitor_name() -> None:
    text = ("Appointment date,Start time,End time,Staff member,Location,Reason,Visitor first name,"
            "Visitor last name,Status,Created by,Created at,Channel\n"
            "03/31/2025,9:30 AM,10:00 AM,jdoe,Downtown,Housing,Ann,Smith,Attended,web,03/13/2025 14:02,online\n")
    got = parse(text, "appointments.csv")
    assert got.provenance[0].parser == ESIRIUS
    assert rows(got, "appointments") == [
        {"agent": "jdoe", "start": utc(2025, 3, 31, 7, 30), "end": utc(2025, 3, 31, 8, 0), "category": "Housing",
         "person_received": "Ann Smith", "site": "Downtown", "created_by": "web",
         "created_at": utc(2025, 3, 13, 13, 2), "status": "Attended", "source_row": 2}]
    assert got.provenance[0].notes["unknown_columns"] == ["Channel"]
    assert got.provenance[0].warnings["header-unknown-columns"] == 1


def test_esirius_missing_required_column_names_the_header_line() -> None:
    text = "Agenda de mars\r\n\r\nDate;Agent;Site\r\n30/03/2025;Dupont;MDS\r\n"
    with pytest.raises(InputError) as error:
        parse(text, "agenda.csv", ESIRIUS)
    assert error.value.code == "csv-header-unmapped"
    assert error.value.line == 3
    assert "Heure début" in error.value.params["fields"]
    assert error.value.params["header"] == "Date, Agent, Site"


def test_sep_line_and_title_before_the_header() -> None:
    text = ("sep=;\r\nExport eSirius du 01/04/2025\r\nDate;Heure début;Agent\r\n"
            "01/04/2025;09:00;Dupont\r\n")
    got = parse(text, "rdv.csv", ESIRIUS)
    assert rows(got, "appointments") == [{"agent": "Dupont", "start": utc(2025, 4, 1, 7, 0), "source_row": 4}]
    assert got.provenance[0].notes["header_line"] == 3


# --- Qmatic statdb --------------------------------------------------------------------------------

QMATIC_CSV = (
    "NAME,YEAR,MONTH,DAY,HOUR,MINUTE,STAFF FIRST_NAME,STAFF LAST_NAME,Staff User Name,CUSTOMER NAME,"
    "Customer ID,Service Category,Unit,WAITING_TIME,VISIT_KEY,TICKET_ID,DELIVERED_SERVICE,ISN_DOB_BIS_LICENSE,"
    "L_BUS_NAME\n"
    "Manhattan Central 4th 5th 6th,2016,10,3,8,30,Brendan,Small,bsmall,JOHNJR MASTROPIERO,959760207,"
    "PL-FSC-License Renewals,6th-Plumber / Fire Suppression Contractor,2649,544436,A012,License Renewal,123,"
    "\"ACME, Inc.\"\n"
    "Queens, 2016, 10, 3, 8, 31,Selina,Self,,,X004467,Fast App,Fast App,272,544287,,Fast App,,\n"
    "Queens,2016,2,30,8,31,Selina,Self,,Lanette Simon,X004467,Fast App,Fast App,272,544288,B1,Fast App,,\n"
    "Bronx,2016,10,30,2,30,,,gflowers,DARLYN ALVAREZ,N11373,Records,Records,1 h 2m,544232,C7,Records,,\n"
    "Bronx,2016,10,30,3,0,,,gflowers,DARLYN ALVAREZ,N11373,Records,Records,soon,544233,C8,Records,,\n"
)


def test_qmatic_nyc_style_export_to_exact_rows() -> None:
    got = parse(QMATIC_CSV, "statdb_2016.csv")
    assert got.provenance[0].parser == QMATIC
    assert rows(got, "queue_tickets") == [
        {"ticket": "A012", "agent": "bsmall", "site": "Manhattan Central 4th 5th 6th",
         "service": "PL-FSC-License Renewals", "issued_at": utc(2016, 10, 3, 6, 30),
         "called_at": utc(2016, 10, 3, 7, 14, 9), "waiting_s": 2649.0,
         "desk": "6th-Plumber / Fire Suppression Contractor", "customer": "JOHNJR MASTROPIERO",
         "outcome": "License Renewal", "source_row": 2},
        # no Staff User Name: first + last name; no TICKET_ID: VISIT_KEY; no customer name: its id
        {"ticket": "544287", "agent": "Selina Self", "site": "Queens", "service": "Fast App",
         "issued_at": utc(2016, 10, 3, 6, 31), "called_at": utc(2016, 10, 3, 6, 35, 32), "waiting_s": 272.0,
         "desk": "Fast App", "customer": "X004467", "outcome": "Fast App", "source_row": 3},
        # 30/10/2016 02:30 happened twice in Paris: the first (summer time) is taken, and counted
        {"ticket": "C7", "agent": "gflowers", "site": "Bronx", "service": "Records",
         "issued_at": utc(2016, 10, 30, 0, 30), "called_at": utc(2016, 10, 30, 1, 32), "waiting_s": 3720.0,
         "desk": "Records", "customer": "DARLYN ALVAREZ", "outcome": "Records", "source_row": 5},
    ]
    assert rejects(got) == [
        (4, "row-time-invalid", {"field": "YEAR/MONTH/DAY/HOUR/MINUTE", "value": "2016-2-30 8:31:0"}),
        (6, "row-time-invalid", {"field": "WAITING_TIME", "value": "soon"}),
    ]
    provenance = got.provenance[0]
    assert provenance.rows_in == 5
    assert provenance.notes["unknown_columns"] == ["ISN_DOB_BIS_LICENSE", "L_BUS_NAME"]
    assert provenance.warnings["header-unknown-columns"] == 2
    assert provenance.warnings["dst-ambiguous"] == 1


def test_qmatic_needs_the_split_time_columns() -> None:
    with pytest.raises(InputError) as error:
        parse("NAME,YEAR,MONTH,DAY,TICKET_ID\nQueens,2016,10,3,A1\n", "qmatic.csv", QMATIC)
    assert error.value.code == "csv-header-unmapped"
    assert error.value.line == 1
    assert error.value.params["fields"] == "HOUR, MINUTE"


def test_qmatic_needs_a_ticket_column() -> None:
    with pytest.raises(InputError) as error:
        parse("YEAR,MONTH,DAY,HOUR,MINUTE\n2016,10,3,8,30\n", "qmatic.csv", QMATIC)
    assert error.value.params["fields"] == "TICKET_ID / VISIT_KEY"


# --- positions ------------------------------------------------------------------------------------

def test_positions_french_excel_export() -> None:
    text = (
        "sep=;\r\nExport des positions du 30/03/2025\r\n\r\n"
        "agent;horodatage;latitude;longitude;précision;vitesse;appareil;source;commentaire\r\n"
        "a1;30/03/2025 02:30:00;48,856613;2,352222;5;1,5;TEL-1;gps;\"deux\r\nlignes; oui\"\r\n"
        "\r\n"
        "a1;30/03/2025 03:30:00;48,85;2,35;12,5;;TEL-1;network;x\r\n"
        "a1;30/03/2025 03:31:00;48,85;2,35;x\r\n"
        "a1;30/03/2025 03:32:00;148,85;2,35;1;;;;\r\n"
        "a1;30/03/2025 03:33:00;48,85;2,35;abc;;;;\r\n"
        ";;;;;;;;\r\n"
        "a2;2025-03-30T03:34:00Z;48.85;2.35;1\u00a0200,5;;;;\r\n"
        ";30/03/2025 03:35:00;48,85;2,35;;;;;\r\n"
    )
    got = parse(text, "positions_mars.csv")
    assert got.provenance[0].parser == POSITIONS
    assert rows(got, "positions") == [
        {"agent": "a1", "device": "TEL-1", "time": utc(2025, 3, 30, 1, 30), "lat": 48.856613, "lon": 2.352222,
         "accuracy_m": 5.0, "speed_mps": 1.5, "provider": "gps", "source_row": 5},
        {"agent": "a1", "device": "TEL-1", "time": utc(2025, 3, 30, 1, 30), "lat": 48.85, "lon": 2.35,
         "accuracy_m": 12.5, "provider": "network", "source_row": 8},
        {"agent": "a2", "time": utc(2025, 3, 30, 3, 34), "lat": 48.85, "lon": 2.35, "accuracy_m": 1200.5,
         "source_row": 13},
    ]
    assert rejects(got) == [
        (9, "row-field-count", {"found": 5, "expected": 9}),
        (10, "row-coordinates-invalid", {"value": "148.85, 2.35"}),
        (11, "row-number-invalid", {"field": "précision", "value": "abc"}),
        (14, "row-required-missing", {"field": "agent"}),
    ]
    provenance = got.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed) == (7, 3)
    assert provenance.notes["header_line"] == 4


def test_positions_without_agent_column_take_the_agent_given() -> None:
    text = "timestamp,lat,lng,speed (km/h),accuracy\n2025-03-30T01:00:00+01:00,48.8,2.3,36,4.5\n"
    got = parse(text, "gps_export.csv", agent="moi")
    assert rows(got, "positions") == [{"agent": "moi", "time": utc(2025, 3, 30, 0, 0), "lat": 48.8, "lon": 2.3,
                                       "accuracy_m": 4.5, "speed_mps": pytest.approx(10.0), "source_row": 2}]
    got = parse(text, "durand.csv", POSITIONS)
    assert rows(got, "positions")[0]["agent"] == "durand"


def test_positions_with_separate_date_and_time_columns() -> None:
    text = "Matricule\tDate\tHeure\tLat\tLon\n0042\t30/03/2025\t09h30\t48,1\t2,1\n0042\t31/03/2025\t\t48,2\t2,2\n"
    got = parse(text, "export.txt", POSITIONS)
    assert rows(got, "positions") == [
        {"agent": "0042", "time": utc(2025, 3, 30, 7, 30), "lat": 48.1, "lon": 2.1, "source_row": 2}]
    assert rejects(got) == [(3, "row-required-missing", {"field": "time"})]  # an empty time is no time


def test_positions_with_one_date_column_holding_date_and_time() -> None:
    text = "agent;date;lat;lon\nx;30/03/2025 09:30:12;1;2\n"
    assert rows(parse(text, "positions.csv", POSITIONS), "positions") == [
        {"agent": "x", "time": utc(2025, 3, 30, 7, 30, 12), "lat": 1.0, "lon": 2.0, "source_row": 2}]


def test_positions_missing_longitude() -> None:
    with pytest.raises(InputError) as error:
        parse("agent;horodatage;latitude\nx;30/03/2025 09:30:12;1\n", "positions.csv", POSITIONS)
    assert (error.value.code, error.value.line, error.value.params["fields"]) == ("csv-header-unmapped", 1,
                                                                                   "longitude")


def test_blank_file_has_no_header() -> None:
    with pytest.raises(InputError) as error:
        parse("\n\n\n", "positions.csv", POSITIONS)
    assert error.value.code == "csv-header-missing"


def test_header_only_gives_no_rows() -> None:
    got = parse("agent;horodatage;latitude;longitude\r\n", "positions.csv", POSITIONS)
    assert rows(got, "positions") == []
    assert got.provenance[0].rows_in == 0


def test_utf16_export_with_bom() -> None:
    text = "agent\thorodatage\tlatitude\tlongitude\r\nÉlise\t30/03/2025 10:00:00\t48,5\t2,5\r\n"
    got = parse(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "positions.csv")
    assert rows(got, "positions") == [{"agent": "Élise", "time": utc(2025, 3, 30, 8), "lat": 48.5, "lon": 2.5,
                                       "source_row": 2}]


def test_an_unbalanced_quote_is_an_input_error_or_a_rejected_row() -> None:
    # The quote swallows the rest of the file: either the csv module's field limit is hit (an InputError
    # naming the line) or, if another parser raised that process-wide limit, one long record is rejected.
    text = 'agent;horodatage;latitude;longitude\n"a1;30/03/2025 10:00:00;48,5;2,5\n' + "x" * 200_000 + "\n"
    try:
        got = parse(text, "positions.csv", POSITIONS)
    except InputError as error:
        assert (error.code, error.line) == ("line-too-long", 2)
    else:
        assert [(row, reason) for row, reason, _ in rejects(got)] == [(2, "row-field-count")]


# --- a test-only profile: maps, constants, checkboxes, epoch times --------------------------------

CLOCKINGS = {
    **BASE,
    "delimiter": ";",
    "columns": {"day": {"headers": ["Date"], "type": "date", "required": True},
                "hour": {"headers": ["Heure"], "type": "time", "format": "%H:%M", "required": True}},
    "fields": {
        "agent": {"headers": ["Matricule"], "required": True},
        "time": {"combine": ["day", "hour"]},
        "direction": {"headers": ["Sens"], "map": {"E": "in", "S": "out"}},
        "method": {"const": "badge"},
        "automatic": {"headers": ["Auto"], "type": "boolean", "format": "checkbox"},
        "recorded_at": {"headers": ["Enregistré"], "type": "datetime", "format": "epoch"},
        "accuracy_m": {"headers": ["Précision"], "type": "number", "precision": 1},
    },
}


def test_maps_constants_checkboxes_and_epoch() -> None:
    parser = make_parser(profile_from_data(CLOCKINGS))
    text = ("Matricule;Date;Heure;Sens;Auto;Enregistré;Précision\n"
            "A1;30/03/2025;08:05;e;x;1743318300;12,5\nA1;30/03/2025;17h30;S;;;\nA1;30/03/2025;18:00;?;oui?;;\n")
    assert _parse_with(parser, text) == [
        {"agent": "A1", "time": utc(2025, 3, 30, 6, 5), "direction": "in", "method": "badge", "automatic": True,
         "recorded_at": utc(2025, 3, 30, 7, 5), "accuracy_m": 12.5, "source_row": 2},
        {"agent": "A1", "time": utc(2025, 3, 30, 15, 30), "direction": "out", "method": "badge", "automatic": False,
         "source_row": 3},
    ]


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_round_trip_of_the_test_profile(data: st.DataObject) -> None:
    parser = make_parser(profile_from_data(CLOCKINGS))
    drawn = data.draw(st.lists(parser.row_strategy(), max_size=5))
    text = parser.render(drawn).decode("utf-8")
    got = _parse_with(parser, text)
    assert len(got) == len(drawn)
    for want, have in zip(drawn, got, strict=True):
        assert {k: v for k, v in want.items() if v is not None} == {k: v for k, v in have.items()
                                                                     if k != "source_row"}


# --- sniffing -------------------------------------------------------------------------------------

HEADS = {
    ESIRIUS: ESIRIUS_CSV.encode("cp1252"),
    QMATIC: QMATIC_CSV.encode(),
    POSITIONS: b"agent;horodatage;latitude;longitude\r\na1;30/03/2025 02:30:00;48,85;2,35\r\n",
}

OTHER_HEADS = {
    "squid": b"1066036250.123    222 192.168.0.1 TCP_MISS/200 1234 GET http://example.com/ - "
             b"DIRECT/1.2.3.4 text/html\n",
    "gpx": b'<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="48.1" lon="2.1">'
           b"<time>2025-03-30T01:00:00Z</time></trkpt></trkseg></trk></gpx>",
    "ics": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20250330T090000Z\r\nEND:VEVENT\r\n"
           b"END:VCALENDAR\r\n",
    "json": b'{"locations": [{"latitudeE7": 488566130, "longitudeE7": 23522220, '
            b'"timestamp": "2025-03-30T01:00:00Z"}]}',
    "m365": b"CreationDate,UserIds,Operations,AuditData\r\n"
            b'2025-03-30T10:00:00.0000000Z,a@b.fr,FileAccessed,"{""x"": 1}"\r\n',
    "teams": codecs.BOM_UTF16_LE + (
        "1. Summary\r\nMeeting title\tPoint\r\n\r\n2. Participants\r\nName\tFirst Join\tLast Leave\t"
        "In-Meeting Duration\r\nA B\t15/11/22, 09:30:47\t15/11/22, 10:00:00\t29m 13s\r\n").encode("utf-16-le"),
    "zkteco": b"     1\t2025-03-30 09:30:00\t0\t1\t0\t0\n     2\t2025-03-30 09:31:00\t1\t1\t0\t0\n",
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "text": "Bonjour,\nvoici le compte rendu de la réunion du 30/03/2025.\n".encode(),
}


@pytest.mark.parametrize("name", OURS)
def test_sniff_positive(name: str) -> None:
    assert sniff(name, HEADS[name]) > 0.8


@pytest.mark.parametrize("name", OURS)
@pytest.mark.parametrize("other", list(OTHER_HEADS) + list(OURS))
def test_sniff_negative(name: str, other: str) -> None:
    if other == name:
        return
    raw = OTHER_HEADS.get(other, HEADS.get(other, b""))
    assert sniff(name, raw) == 0.0


def test_sniff_prefers_the_most_specific_header() -> None:
    generic = "agent;horodatage;latitude;longitude;colonne1;colonne2;colonne3;colonne4\na;30/03/2025 10:00:00;1;2;;;;\n"
    full = "agent;horodatage;latitude;longitude;précision;vitesse\na;30/03/2025 10:00:00;1;2;3;4\n"
    assert sniff(POSITIONS, full.encode()) > sniff(POSITIONS, generic.encode()) >= 0.5


@pytest.mark.parametrize("family", ["web", "gpx", "ics", "google"])
def test_real_exports_of_other_formats_are_not_claimed(family: str) -> None:
    for path in real_exports(family):
        raw = path.read_bytes()
        for name in OURS:
            assert sniff(name, raw, path.name) == 0.0, (name, path.name)


# --- XLSX / XLS -----------------------------------------------------------------------------------

def _xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, lines in sheets.items():
        sheet = workbook.create_sheet(title)
        for line in lines:
            sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_esirius_xlsx_with_typed_cells() -> None:
    raw = _xlsx({
        "Notes": [["Rien ici"]],
        "Agenda": [
            ["Agenda du mois de mars"], [],
            ["Date", "Heure début", "Heure fin", "Agent", "Site", "Statut", "Date de création"],
            [date(2025, 3, 30), clock(2, 30), clock(3, 0), "Dupont", "MDS", "Honoré", datetime(2025, 3, 1, 9, 12)],
            [datetime(2025, 3, 31), "09h30", 0.4375, 1234, "MDS", None, 45717.5],
            [None, None, None, None, None, None, None],
            ["bientôt", "09:00", None, "Martin", None, None, None],
        ],
    })
    source = Source.from_bytes(raw, "agenda.xlsx")
    assert spreadsheet.workbook_kind(raw) == "xlsx"
    assert registry.detect(source).parser == ESIRIUS
    got = parse(raw, "agenda.xlsx")
    assert rows(got, "appointments") == [
        {"agent": "Dupont", "start": utc(2025, 3, 30, 1, 30), "end": utc(2025, 3, 30, 1, 0), "site": "MDS",
         "status": "Honoré", "created_at": utc(2025, 3, 1, 8, 12), "source_row": 4},
        {"agent": "1234", "start": utc(2025, 3, 31, 7, 30), "end": utc(2025, 3, 31, 8, 30), "site": "MDS",
         "created_at": utc(2025, 3, 1, 11, 0), "source_row": 5},
    ]
    assert rejects(got) == [(7, "row-time-invalid", {"field": "Date", "value": "bientôt"})]
    assert got.provenance[0].notes["sheet"] == "Agenda"
    assert got.provenance[0].notes["header_line"] == 3


def test_large_xlsx_is_sniffed_from_the_strings_in_its_head() -> None:
    lines: list[list[Any]] = [["Matricule", "Horodatage", "Latitude", "Longitude", "Précision (m)"]]
    lines += [[f"agent{i % 7}", datetime(2025, 3, 30, 9, 0) , 48 + i / 1e5, 2 + i / 1e5, 5.0] for i in range(6000)]
    raw = _xlsx({"Positions": lines})
    assert len(raw) > HEAD_SIZE
    assert sniff(POSITIONS, raw, "export.xlsx") > 0.5
    assert sniff(ESIRIUS, raw, "export.xlsx") == 0.0
    assert sniff(QMATIC, raw, "export.xlsx") == 0.0
    got = parse(raw, "export.xlsx")
    assert got.provenance[0].parser == POSITIONS
    assert got.tables["positions"].num_rows == 6000
    assert got.tables["positions"].column("source_row").to_pylist()[:2] == [2, 3]


def test_xlsx_without_a_matching_header() -> None:
    raw = _xlsx({"Feuil1": [["Titre"], ["Date", "Agent"], [date(2025, 3, 30), "x"]]})
    with pytest.raises(InputError) as error:
        parse(raw, "agenda.xlsx", ESIRIUS)
    assert (error.value.code, error.value.line) == ("csv-header-unmapped", 2)


def test_broken_workbook_is_an_input_error() -> None:
    raw = _xlsx({"Feuil1": [["Date", "Heure début", "Agent"]]})
    broken = raw[: len(raw) // 2]  # cut: the zip directory at the end is gone
    parser = registry.get(ESIRIUS)
    ctx = ParseContext(file="agenda.xlsx", tool="esirius", tz=zone(None), agent_hint="x")
    with pytest.raises(InputError) as error:  # (api.load refuses it even earlier, as an unsafe archive)
        list(parser.parse(Source.from_bytes(broken, "agenda.xlsx"), ctx))
    assert error.value.code == "file-unreadable"


def test_xls_head_strings_are_found_in_latin1_and_utf16_runs() -> None:
    sst = b"".join(struct.pack("<HB", len(s), 0) + s.encode("latin-1") for s in ("Latitude", "Longitude", "Agent"))
    sst += struct.pack("<HB", 10, 1) + "Horodatage".encode("utf-16-le")
    raw = spreadsheet.OLE2_MAGIC + b"\x00" * 600 + sst + b"\x00" * (HEAD_SIZE + 100)
    assert {"Latitude", "Longitude", "Agent", "Horodatage"} <= spreadsheet.head_strings(raw[:HEAD_SIZE])
    assert sniff(POSITIONS, raw, "positions.xls") > 0.5
    assert sniff(QMATIC, raw, "positions.xls") == 0.0


# --- render ---------------------------------------------------------------------------------------

def test_render_writes_what_the_tools_write() -> None:
    esirius = registry.get(ESIRIUS).render([
        {"agent": "Dupont", "start": utc(2025, 3, 30, 1, 30), "end": utc(2025, 3, 30, 2, 0),
         "site": "MDS Nord – G1", "person_received": "Mme l’Œuvre", "category": "Aide ; urgence"}])
    assert esirius.decode("cp1252") == (
        "Date;Heure début;Heure fin;Agent;Guichet;Site;Motif;Usager;Statut;Créé par;Date de création\r\n"
        "30/03/2025;03:30;04:00;Dupont;G1;MDS Nord;\"Aide ; urgence\";Mme l’Œuvre;;;\r\n")
    qmatic = registry.get(QMATIC).render([
        {"ticket": "A1", "agent": "bsmall", "site": "Queens", "issued_at": utc(2016, 10, 3, 6, 30),
         "waiting_s": 272.0, "called_at": utc(2016, 10, 3, 6, 34, 32)}])
    assert qmatic.decode() == (
        "NAME,YEAR,MONTH,DAY,HOUR,MINUTE,STAFF FIRST_NAME,STAFF LAST_NAME,Staff User Name,CUSTOMER NAME,Customer ID,"
        "Service Category,Unit,WAITING_TIME,VISIT_KEY,TICKET_ID,DELIVERED_SERVICE\r\n"
        "Queens,2016,10,3,8,30,,,bsmall,,,,,272,,A1,\r\n")
    positions = registry.get(POSITIONS).render([
        {"agent": "a1", "time": utc(2025, 3, 30, 1, 30), "lat": 48.856613, "lon": 2.352222, "speed_mps": 1.5}])
    assert positions.decode() == (
        "agent;horodatage;latitude;longitude;précision;vitesse;altitude;appareil;source;activité\r\n"
        "a1;30/03/2025 03:30:00;48,856613;2,352222;;1,50;;;;\r\n")


def test_profiles_folder_only_holds_profiles_and_the_readme() -> None:
    names = {p.name for p in Path(profiles.PROFILES_DIR).iterdir()}
    assert {f"{n}.yaml" for n in OURS} | {"README.md"} <= names


# --- the vectorised path (profiles_fast.py) reads exactly what the row path reads ------------------------

def _both_paths(data: bytes, name: str, parser: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    return both_paths(data, name, parser, ProfileParser, 256, monkeypatch)


def _edgy_positions() -> bytes:
    lines = ["agent;horodatage;latitude;longitude;précision;vitesse", *(
        f"a{i % 3};25/03/2026 08:{i % 60:02d}:00;45,{i:06d};4,5;{i % 9},5;1,25" for i in range(40))]
    lines += [
        "a1;29/03/2026 02:30:00;45,1;4,5;3;1",      # the skipped hour of the spring change
        "a1;25/10/2026 02:30:00;45,1;4,5;3;1",      # the repeated hour of the autumn change
        "a1;31/04/2026 08:00:00;45,1;4,5;3;1",      # no such day
        "a1;25/03/2026 08:00:60;45,1;4,5;3;1",      # no such second
        " a2 ;25/03/2026 08:00:00;45,1;4,5;3;1",    # blanks the row path strips
        "a2;25/03/2026 08:00:00;95,1;4,5;3;1",      # latitude out of range
        "a2;25/03/2026 08:00:00;nan;4,5;3;1",
        "a2;25/03/2026 08:00:00;45,1;4,5;inf;1",
        "a2;;45,1;4,5;3;1",
        "a2;25/03/2026 08:00:00;45,1;4,5;3",
        ";;;;;",
        "",
        "a3;2026-03-25 08:00:00;45.5;4,5;3;1",
        "Élodie;13/12/1901 21:45:52;45,1;4,5;3;1",  # a sentinel
        'a3;"25/03/2026 09:00:00";45,1;4,5;3;1',
        *(f"a{i % 3};26/03/2026 09:{i % 60:02d}:00;45,{i:06d};4,5;{i % 9},5;1,25" for i in range(40)),
    ]
    return ("\n".join(lines) + "\n").encode()


def test_fast_and_row_paths_agree_on_samples_and_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [(SAMPLES / f"{name}.csv").read_bytes() for name in OURS] + [_edgy_positions()]
    for data, parser in zip(cases, [*OURS, POSITIONS], strict=True):
        fast, rows = _both_paths(data, "export.csv", parser, monkeypatch)
        assert fast == rows
    fast, _ = _both_paths(_edgy_positions(), "export.csv", POSITIONS, monkeypatch)
    assert fast[2][2] == 7 and fast[2][3]["dst-ambiguous"] == 1 and fast[2][3]["dst-nonexistent"] == 1


def test_the_fast_path_is_taken_on_plain_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = fast_blocks(monkeypatch, profiles)
    _both_paths(_edgy_positions(), "export.csv", POSITIONS, monkeypatch)
    assert any(taken) and not all(taken)


@settings(max_examples=60)
@given(data=st.data())
def test_fast_and_row_paths_agree_on_generated_exports(data: st.DataObject) -> None:
    from auditor.testing.strategies import export

    parser = data.draw(st.sampled_from(OURS))
    raw, _ = data.draw(export(parser, max_rows=30))
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, rows = _both_paths(raw, "export.csv", parser, monkeypatch)
    assert fast == rows
