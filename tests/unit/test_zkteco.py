"""ZKTeco attlog.dat: sniffing, both layouts, padded IDs, duplicates kept, DST edges, rejects."""

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
from auditor.sources.zkteco import ZKTecoAttlog
from tests.conftest import real_exports

PARSER = ZKTecoAttlog()

# The USB layout, as in real 1_attlog.dat files: ID, time, device, status, verify, work code.
USB = (
    "        5\t2020-02-24 10:52:43\t1\t0\t1\t0\n"
    "        5\t2020-02-24 10:52:52\t1\t0\t1\t0\n"  # the same punch nine seconds later: kept
    "       17\t2020-02-24 12:01:20\t1\t1\t15\t0\n"
    "123456789\t2020-02-24 12:30:00\t1\t2\t2\t0\n"
    "       42\t2020-02-24 13:31:00\t1\t3\t4\t0\n"
    "       42\t2020-02-24 18:00:00\t1\t4\t0\t0\n"
    "       42\t2020-02-24 21:00:00\t1\t5\t25\t0\n"
    "        7\t2020-02-24 22:00:00\t1\t255\t200\t0\n"
)


def _load(text: str | bytes, name: str = "1_attlog.dat") -> Dataset:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load([Source.from_bytes(data, name)], ReadOptions(parser=PARSER.name))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["clock_events"].to_pylist() if "clock_events" in dataset.tables else []


def _head(data: bytes, name: str = "export.txt") -> Head:
    return Head.of(data, name, complete=True)


# --- sniff --------------------------------------------------------------------------------------

def test_sniff_claims_attlog_lines() -> None:
    assert PARSER.sniff(_head(USB.encode())) == 0.9
    found = registry.detect(Source.from_bytes(USB.encode(), "1_attlog.dat"))
    assert (found.parser, found.kind, found.ambiguous) == ("zkteco-attlog", "clock_events", False)


def test_sniff_tolerates_a_few_bad_lines_and_a_cut_last_line() -> None:
    assert PARSER.sniff(_head((USB + "garbage\n").encode())) == 0.6
    assert PARSER.sniff(Head.of(USB.encode() + b"       9\t2020-02", "x.dat", complete=False)) == 0.9


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"Matricule;Date;Heure;Sens\r\n000123;24/02/2020;08:01;E\r\n",
        b"1704067200.123    250 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - DIRECT/1.2.3.4 text/html\n",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        b'<?xml version="1.0"?><gpx version="1.1"></gpx>',
        b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n",
        b"\xff\xfe" + "1. Summary\r\nMeeting title\tX\r\n".encode("utf-16-le"),
        b"5\t2020-02-24\t10:52:43\n",
        b"id\ttime\tstatus\n5\t2020-02-24 10:52:43\tIN\n",
    ],
)
def test_sniff_refuses_other_formats(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_sniff_refuses_every_real_export() -> None:
    for family in ("web", "gpx", "ics", "google"):
        for path in real_exports(family):
            assert PARSER.sniff(Source.from_path(path).head) == 0.0, path.name


# --- parse --------------------------------------------------------------------------------------

def test_usb_layout_to_exact_rows() -> None:
    dataset = _load(USB, "CGKK223862906_attlog.dat")
    got = [(r["agent"], r["time"], r["direction"], r["method"], r["reader"], r["source_row"]) for r in _rows(dataset)]
    assert got == [
        ("5", datetime(2020, 2, 24, 9, 52, 43, tzinfo=UTC), "in", "biometric", "1", 1),
        ("5", datetime(2020, 2, 24, 9, 52, 52, tzinfo=UTC), "in", "biometric", "1", 2),
        ("17", datetime(2020, 2, 24, 11, 1, 20, tzinfo=UTC), "out", "biometric", "1", 3),
        ("123456789", datetime(2020, 2, 24, 11, 30, tzinfo=UTC), "out", "badge", "1", 4),
        ("42", datetime(2020, 2, 24, 12, 31, tzinfo=UTC), "in", "badge", "1", 5),
        ("42", datetime(2020, 2, 24, 17, 0, tzinfo=UTC), "in", "password", "1", 6),
        ("42", datetime(2020, 2, 24, 20, 0, tzinfo=UTC), "out", "biometric", "1", 7),
        ("7", datetime(2020, 2, 24, 21, 0, tzinfo=UTC), "unknown", None, "1", 8),
    ]
    row = _rows(dataset)[0]
    assert (row["tool"], row["source_file"], row["site"], row["automatic"]) == (
        "zkteco", "CGKK223862906_attlog.dat", None, None)
    prov = dataset.provenance[0]
    assert prov.notes["terminal"] == "CGKK223862906"
    assert prov.notes["layout"] == {"usb": 8}
    assert prov.notes["verify_codes"] == {"0": 1, "1": 2, "15": 1, "2": 1, "200": 1, "25": 1, "4": 1}
    assert (prov.rows_in, prov.rows_parsed, prov.rows_rejected) == (8, 8, 0)
    assert prov.warnings == {"timezone-missing": 8}


def test_push_layout_puts_status_then_verify() -> None:
    text = "1001\t2026-01-05 08:00:00\t1\t15\t0\t0\t0\n1001\t2026-01-05 08:00:03\t0\t4\t0\t0\t0\t36.5\n"
    assert PARSER.sniff(_head(text.encode())) == 0.9
    rows = _rows(_load(text, "attlog.dat"))
    assert [(r["direction"], r["method"], r["reader"]) for r in rows] == [
        ("out", "biometric", None), ("in", "badge", None)]


def test_short_lines_without_verify_still_give_the_direction() -> None:
    rows = _rows(_load("   12\t2026-01-05 08:00:00\t3\t1\n"))
    assert [(r["agent"], r["direction"], r["method"], r["reader"]) for r in rows] == [("12", "out", None, "3")]


def test_dst_gap_and_repeated_hour_follow_the_canonical_rule() -> None:
    text = "       1\t2026-03-29 02:30:00\t1\t0\t1\t0\n       1\t2026-10-25 02:30:00\t1\t1\t1\t0\n"
    dataset = _load(text)
    assert [r["time"] for r in _rows(dataset)] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # skipped hour: read with the winter offset
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # repeated hour: first occurrence (summer time)
    ]
    warnings = dataset.provenance[0].warnings
    assert (warnings["dst-nonexistent"], warnings["dst-ambiguous"]) == (1, 1)


def test_other_export_zone_is_honoured() -> None:
    dataset = load([Source.from_bytes(b"1\t2026-01-05 08:00:00\t1\t0\t1\t0\n", "1_attlog.dat")],
                   ReadOptions(parser=PARSER.name, timezone="America/Cayenne"))
    assert _rows(dataset)[0]["time"] == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def test_malformed_lines_are_rejected_with_a_reason_and_nothing_is_lost() -> None:
    text = (
        "        5\t2020-02-24 10:52:43\t1\t0\t1\t0\r\n"
        "\r\n"
        "bad line\r\n"
        "        6\t2020-13-24 10:52:43\t1\t0\t1\t0\r\n"
        "        6\t24/02/2020 10:52\t1\t0\t1\t0\r\n"
        "        7\t2020-02-24 10:52:43\t1\tIN\t1\t0\r\n"
        "         \t2020-02-24 10:52:43\t1\t0\t1\t0\r\n"
        "        8\t0001-01-01 00:00:00\t1\t0\t1\t0\r\n"
    )
    dataset = _load(text)
    assert [r["agent"] for r in _rows(dataset)] == ["5"]
    rejects = [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]
    assert rejects == [
        (3, "row-field-count", {"found": 1, "expected": 6}),
        (4, "row-time-invalid", {"field": "time", "value": "2020-13-24 10:52:43"}),
        (5, "row-time-invalid", {"field": "time", "value": "24/02/2020 10:52"}),
        (6, "row-number-invalid", {"field": "status/verify", "value": "IN/1"}),
        (7, "row-required-missing", {"field": "agent"}),
        (8, "row-time-invalid", {"field": "time", "value": "0001-01-01 00:00:00"}),
    ]
    prov = dataset.provenance[0]
    assert (prov.rows_in, prov.rows_parsed, prov.rows_rejected) == (7, 1, 6)


def test_a_file_of_blank_lines_has_no_rows() -> None:
    dataset = _load("\n\n")
    assert _rows(dataset) == [] and dataset.rejects.num_rows == 0


# --- render -------------------------------------------------------------------------------------

def test_render_writes_the_usb_layout_and_reads_back() -> None:
    rows = [
        {"agent": "5", "time": datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "direction": "in",
         "method": "biometric", "reader": "3"},
        {"agent": "123", "time": datetime(2026, 7, 1, 6, 0, 5, tzinfo=UTC), "direction": "out",
         "method": "badge", "reader": "Badgeuse Accueil"},
        {"agent": "9", "time": datetime(2026, 7, 1, 6, 0, 5, tzinfo=UTC), "direction": "unknown",
         "method": None, "reader": None},
    ]
    data = PARSER.render(rows)
    assert data.decode().splitlines() == [
        "        5\t2026-03-29 03:30:00\t3\t0\t1\t0",
        "      123\t2026-07-01 08:00:05\t1\t1\t2\t0",
        "        9\t2026-07-01 08:00:05\t1\t255\t200\t0",
    ]
    got = _rows(_load(data))
    assert [(r["agent"], r["time"], r["direction"], r["method"], r["reader"]) for r in got] == [
        ("5", rows[0]["time"], "in", "biometric", "3"),
        ("123", rows[1]["time"], "out", "badge", "1"),
        ("9", rows[2]["time"], "unknown", None, "1"),
    ]
    assert PARSER.render([]) == b"\n"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mutated_files_only_raise_input_error(data: st.DataObject) -> None:
    raw = bytearray(USB.encode())
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
