"""Microsoft 365 Unified Audit Log CSV: both headers, both date forms, AuditData JSON, rejects."""

from __future__ import annotations

import csv
import io
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
from auditor.sources.m365_audit import M365UnifiedAuditCsv
from tests.conftest import real_exports

PARSER = M365UnifiedAuditCsv()
PURVIEW = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames"
POWERSHELL = "CreationDate,UserIds,Operations,AuditData"


def _csv(*rows: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _audit(**values: Any) -> str:
    return json.dumps(values)


def _load(text: str | bytes, name: str = "audit_log.csv") -> Dataset:
    data = text.encode("utf-8-sig") if isinstance(text, str) else text
    return load([Source.from_bytes(data, name)], ReadOptions(parser=PARSER.name))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["activity_events"].to_pylist() if "activity_events" in dataset.tables else []


def _head(data: bytes, name: str = "export.csv") -> Head:
    return Head.of(data, name, complete=True)


# --- sniff --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "header",
    [
        PURVIEW,
        PURVIEW.replace("AssociatedAdminUnitsNames", "AssociatedAdminUnitNames"),
        PURVIEW.lower(),
        POWERSHELL,
        '"CreationDate","UserIds","Operations","AuditData"',
        '#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n'
        '"CreationDate","UserIds","Operations","AuditData"',
    ],
)
def test_sniff_claims_both_headers(header: str) -> None:
    assert PARSER.sniff(_head((header + "\r\n").encode("utf-8-sig"))) == 0.95


def test_sniff_claims_a_full_powershell_object_dump_a_little_less() -> None:
    header = ('"RunspaceId","RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex",'
              '"ResultCount","Identity","IsValid","ObjectState"')
    assert PARSER.sniff(_head(header.encode())) == 0.9


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"Date;Agent;Action;Objet\r\n24/02/2020;jdupont;ouverture;dossier\r\n",
        b"CreationDate,UserIds,Operations\r\n",
        b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData,Extra\r\n",
        b"AuditData,CreationDate,UserIds,Operations\r\n",
        b"        5\t2020-02-24 10:52:43\t1\t0\t1\t0\n",
        b"\xff\xfe" + "1. Summary\r\nMeeting title\tX\r\n".encode("utf-16-le"),
        b"\xff\xfe" + "Full Name\tUser Action\tTimestamp\r\n".encode("utf-16-le"),
        b"BEGIN:VCALENDAR\r\n",
    ],
)
def test_sniff_refuses_other_formats(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_sniff_refuses_every_real_export() -> None:
    for family in ("web", "gpx", "ics", "google"):
        for path in real_exports(family):
            assert PARSER.sniff(Source.from_path(path).head) == 0.0, path.name


# --- parse --------------------------------------------------------------------------------------

def test_purview_rows_to_exact_values() -> None:
    login = _audit(CreationTime="2026-01-24T06:54:24", Operation="UserLoggedIn", RecordType=15,
                   ResultStatus="Success", UserId="Jean.Dupont@ville.fr", Workload="AzureActiveDirectory",
                   ObjectId="00000003-0000-0ff1-ce00-000000000000", ClientIP="[2a01:cb00::1]:443",
                   DeviceProperties=[{"Name": "OS", "Value": "Windows10"}, {"Name": "BrowserType", "Value": "Edge"},
                                     {"Name": "IsCompliant", "Value": "False"}])
    file = _audit(CreationTime="2026-01-24T07:00:00", Operation="FileAccessed", RecordType=6,
                  Workload="SharePoint", SourceFileName="Dossier Martin.docx", ClientIP="192.0.2.7:51234",
                  UserAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    meeting = _audit(CreationTime="2026-01-24T08:00:00", Operation="MeetingParticipantDetail", RecordType=25,
                     Workload="MicrosoftTeams", MeetingDetailId="meeting-42", ClientIPAddress="2001:db8::5",
                     JoinTime="2026-01-24T07:00:00Z", LeaveTime="2026-01-24T07:45:30.1234567Z",
                     DeviceInformation="Teams/1.6 (Windows)", Attendees=[{"UPN": "jean.dupont@ville.fr"}])
    text = PURVIEW + "\r\n" + _csv(
        ["id-1", "2026-01-24T06:54:24.0000000Z ", "15", "UserLoggedIn", "Jean.Dupont@ville.fr", login, "", ""],
        ["id-2", "2026-01-24T07:00:00.0000000Z ", "6", "FileAccessed", "jean.dupont@ville.fr", file, "", ""],
        ["id-3", "2026-01-24T08:00:00.0000000Z ", "25", "MeetingParticipantDetail", "JEAN.DUPONT@VILLE.FR",
         meeting, "", ""],
    )
    dataset = _load(text)
    keys = ("agent", "time", "application", "action", "object", "client_ip", "device", "duration_s", "detail",
            "source_row")
    got = [tuple(r[k] for k in keys) for r in _rows(dataset)]
    assert got == [
        ("jean.dupont@ville.fr", datetime(2026, 1, 24, 6, 54, 24, tzinfo=UTC), "AzureActiveDirectory",
         "UserLoggedIn", "00000003-0000-0ff1-ce00-000000000000", "2a01:cb00::1", "Windows10 / Edge", None,
         '{"RecordType":15,"ResultStatus":"Success"}', 2),
        ("jean.dupont@ville.fr", datetime(2026, 1, 24, 7, 0, tzinfo=UTC), "SharePoint", "FileAccessed",
         "Dossier Martin.docx", "192.0.2.7", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", None,
         '{"RecordType":6}', 3),
        ("jean.dupont@ville.fr", datetime(2026, 1, 24, 8, 0, tzinfo=UTC), "MicrosoftTeams",
         "MeetingParticipantDetail", "meeting-42", "2001:db8::5", "Teams/1.6 (Windows)", 2730.123456,
         '{"RecordType":25,"JoinTime":"2026-01-24T07:00:00Z","LeaveTime":"2026-01-24T07:45:30.1234567Z",'
         '"DeviceInformation":"Teams/1.6 (Windows)"}', 4),
    ]
    prov = dataset.provenance[0]
    assert (prov.rows_in, prov.rows_parsed, prov.rows_rejected) == (3, 3, 0)
    assert prov.notes["creation_date_zone"] == "UTC"
    assert "timezone-missing" not in prov.warnings


def test_locale_dates_prefer_creation_time_else_read_the_locale() -> None:
    text = PURVIEW + "\r\n" + _csv(
        # The Huntress CTF 2023 shape: US locale, AuditData carries the exact UTC time.
        ["a", "9/20/2023 4:05:03 AM", "8", "Add service principal.", "Certificate",
         _audit(CreationTime="2023-09-20T04:05:03", Workload="AzureActiveDirectory"), "", ""],
        ["b", "9/10/2023 4:05:03 PM", "8", "Op", "x@y.fr", _audit(Workload="Exchange"), "", ""],
        ["c", "20/09/2023 16:05:03", "8", "Op", "x@y.fr", _audit(), "", ""],
        ["d", "2023-09-20 16:05:03", "8", "Op", "x@y.fr", _audit(), "", ""],
    )
    got = [(r["agent"], r["time"]) for r in _rows(_load(text))]
    assert got == [
        ("certificate", datetime(2023, 9, 20, 4, 5, 3, tzinfo=UTC)),
        ("x@y.fr", datetime(2023, 9, 10, 16, 5, 3, tzinfo=UTC)),
        ("x@y.fr", datetime(2023, 9, 20, 16, 5, 3, tzinfo=UTC)),
        ("x@y.fr", datetime(2023, 9, 20, 16, 5, 3, tzinfo=UTC)),
    ]


def test_powershell_export_with_type_line_and_multiline_audit_data() -> None:
    pretty = json.dumps({"Workload": "Exchange", "ItemName": "Réunion CSE", "ClientIP": "203.0.113.9",
                         "ExtendedProperties": [{"Name": "UserAgent", "Value": "Outlook"}]}, indent=2)
    text = ('#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n'
            '"CreationDate","UserIds","Operations","AuditData"\r\n'
            + _csv(["2026-02-02T10:00:00.0000000Z", "Marie.Curie@ville.fr", "MailItemsAccessed", pretty],
                   ["2026-02-02T10:05:00.0000000Z", "", "Send", _audit(UserId="Paul@ville.fr", Operation="x")]))
    rows = _rows(_load(text))
    assert [(r["agent"], r["action"], r["object"], r["client_ip"], r["device"], r["source_row"]) for r in rows] == [
        ("marie.curie@ville.fr", "MailItemsAccessed", "Réunion CSE", "203.0.113.9", "Outlook", 3),
        ("paul@ville.fr", "Send", None, None, None, 3 + pretty.count("\n") + 1),
    ]


def test_a_long_user_agent_is_kept_short() -> None:
    text = POWERSHELL + "\r\n" + _csv(["2026-02-02T10:00:00Z", "a@b.fr", "Op", _audit(UserAgent="x" * 500)])
    device = _rows(_load(text))[0]["device"]
    assert len(device) == 120 and device.endswith("…")


def test_bad_rows_are_rejected_with_a_reason() -> None:
    text = PURVIEW + "\r\n" + _csv(
        ["a", "2026-01-24T06:54:24.0000000Z ", "15", "Op", "a@b.fr", "{not json", "", ""],
        ["b", "2026-01-24T06:54:24.0000000Z ", "15", "Op", "a@b.fr", "[1, 2]", "", ""],
        ["c", "hier", "15", "Op", "a@b.fr", _audit(), "", ""],
        ["d", "2026-01-24T06:54:24Z"],
        ["e", "2026-01-24T06:54:24Z", "15", "Op", "a@b.fr", _audit(), "", "", "surplus"],
        ["f", "2026-01-24T06:54:24Z", "15", "", "a@b.fr", _audit(), "", ""],
        ["g", "2026-01-24T06:54:24Z", "15", "Op", "a@b.fr", _audit(), "", ""],
    )
    dataset = _load(text)
    assert [r["source_row"] for r in _rows(dataset)] == [8]
    rejects = [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]
    assert rejects == [
        (2, "row-malformed", {"detail": "AuditData"}),
        (3, "row-malformed", {"detail": "AuditData"}),
        (4, "row-time-invalid", {"field": "CreationDate", "value": "hier"}),
        (5, "row-field-count", {"found": 2, "expected": 8}),
        (6, "row-field-count", {"found": 9, "expected": 8}),
        (7, "row-required-missing", {"field": "action"}),
    ]
    assert dataset.provenance[0].balanced


def test_header_only_file_has_no_rows_and_a_foreign_csv_is_refused() -> None:
    assert _rows(_load(PURVIEW + "\r\n")) == []
    with pytest.raises(InputError) as caught:
        _load("Date;Agent;Action\r\n24/02/2020;jdupont;x\r\n")
    assert caught.value.code == "csv-header-unmapped"
    with pytest.raises(InputError) as caught:
        _load("\r\n\r\n")
    assert caught.value.code == "csv-header-missing"


def test_detection_picks_this_parser_for_its_exports() -> None:
    found = registry.detect(Source.from_bytes((PURVIEW + "\r\n").encode("utf-8-sig"), "AuditLog_2026.csv"))
    assert (found.parser, found.kind, found.ambiguous) == ("m365-unified-audit-csv", "activity_events", False)


# --- render -------------------------------------------------------------------------------------

def test_render_writes_a_purview_export_that_reads_back() -> None:
    rows = [
        {"agent": "jean.dupont@ville.fr", "time": datetime(2026, 1, 24, 6, 54, 24, tzinfo=UTC),
         "application": "SharePoint", "action": "FileAccessed", "object": "Compte-rendu, « CSE ».docx",
         "client_ip": "2001:db8::1", "device": "Mozilla/5.0", "duration_s": None},
        {"agent": "marie.curie@ville.fr", "time": datetime(2026, 1, 24, 8, 0, tzinfo=UTC),
         "application": "MicrosoftTeams", "action": "MeetingParticipantDetail", "object": None,
         "client_ip": None, "device": None, "duration_s": 1810.0},
    ]
    data = PARSER.render(rows)
    assert data.startswith(b"\xef\xbb\xbf" + PURVIEW.encode() + b"\r\n")
    assert b',"2026-01-24T06:54:24.0000000Z ",' in data
    assert data == PARSER.render(rows)  # deterministic record ids
    got = _rows(_load(data))
    for want, row in zip(rows, got, strict=True):
        assert {k: row[k] for k in PARSER.roundtrip_fields} == want
    assert json.loads(got[1]["detail"])["RecordType"] == 25


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mutated_files_only_raise_input_error(data: st.DataObject) -> None:
    sample = PARSER.render([
        {"agent": "a@b.fr", "time": datetime(2026, 1, 24, 8, 0, tzinfo=UTC), "application": "MicrosoftTeams",
         "action": "MeetingParticipantDetail", "object": "m", "client_ip": "1.2.3.4", "device": "d",
         "duration_s": 60.0},
    ] * 3)
    raw = bytearray(sample)
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
