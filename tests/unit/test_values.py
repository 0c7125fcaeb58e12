"""Typed cell converters: French numbers, booleans, dates, times, durations, Excel cells, and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from auditor.io import values
from auditor.io.values import (
    cell_converter,
    converter,
    excel_serial,
    format_value,
    parse_boolean,
    parse_duration,
    parse_number,
)

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5", 12.5), ("-12,5", -12.5), ("+3", 3.0), ("12.5", 12.5), (f"1{NBSP}234,5", 1234.5),
        (f"1{NNBSP}234{NNBSP}567,25", 1234567.25), ("1 234,5", 1234.5), ("1.234,5", 1234.5),
        ("1,234.5", 1234.5), ("1.234.567", 1234567.0), (" 7 ", 7.0), ("-", None), ("", None), ("  ", None),
    ],
)
def test_numbers(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected
    assert converter("number", decimal=",")(text) == expected


@pytest.mark.parametrize("text", ["abc", "12,5 %", "nan", "inf", "-inf", "1e999", "12,5,3", "--5"])
def test_unreadable_numbers_raise(text: str) -> None:
    with pytest.raises(ValueError):
        converter("number", decimal=",")(text)
    with pytest.raises(ValueError):
        converter("number", decimal=".")(text)


def test_a_lone_comma_group_follows_the_decimal_mark_of_the_file() -> None:
    assert converter("number", decimal=",")("1,234") == 1.234
    assert converter("number", decimal=".")("1,234") == 1234.0
    assert converter("number", decimal=".")("12,5") == 12.5


def test_integers() -> None:
    to_int = converter("integer")
    assert to_int("12") == 12
    assert to_int(" 8") == 8
    assert to_int("12,0") == 12
    assert to_int(f"1{NBSP}200") == 1200
    assert to_int("") is None
    with pytest.raises(ValueError):
        to_int("12,5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Oui", True), ("non", False), ("O", True), ("N", False), ("VRAI", True), ("Faux", False),
     ("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), ("No", False), ("x", True),
     ("X", True), ("", None), ("-", None)],
)
def test_booleans(text: str, expected: bool | None) -> None:
    assert parse_boolean(text) is expected
    assert converter("boolean")(text) is expected


def test_boolean_formats() -> None:
    assert converter("boolean", fmt="checkbox")("") is False
    assert converter("boolean", fmt="checkbox")("x") is True
    words = converter("boolean", fmt="Présent/Absent")
    assert words("présent") is True
    assert words("Absent") is False
    with pytest.raises(ValueError):
        converter("boolean")("peut-être")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30/03/2025", date(2025, 3, 30)), ("2025-03-30", date(2025, 3, 30)), ("30.03.2025", date(2025, 3, 30)),
     ("30/03/25", date(2025, 3, 30)), ("20250330", date(2025, 3, 30)), ("30/03/2025 09:30", date(2025, 3, 30)),
     (" 30/03/2025 ", date(2025, 3, 30)), ("", None), ("-", None)],
)
def test_dates(text: str, expected: date | None) -> None:
    assert converter("date")(text) == expected


def test_month_first_dates() -> None:
    assert converter("date", dayfirst=False)("03/30/2025") == date(2025, 3, 30)
    assert converter("datetime", dayfirst=False)("03/30/2025 09:30:15") == datetime(2025, 3, 30, 9, 30, 15)


@pytest.mark.parametrize("text", ["31/02/2025", "32/01/2025", "hier", "30/13/2025", "2025-02-30"])
def test_bad_dates_raise(text: str) -> None:
    with pytest.raises(ValueError):
        converter("date")(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/03/2025 02:30", datetime(2025, 3, 30, 2, 30)),
        ("30/03/2025 02:30:15", datetime(2025, 3, 30, 2, 30, 15)),
        ("30/03/2025 9h30", datetime(2025, 3, 30, 9, 30)),
        ("2025-03-30T02:30:00", datetime(2025, 3, 30, 2, 30)),
        ("2025-03-30 02:30:00.1234567Z", datetime(2025, 3, 30, 2, 30, 0, 123456, tzinfo=UTC)),
        ("2025-03-30T02:30:00+02:00", datetime.fromisoformat("2025-03-30T02:30:00+02:00")),
        ("1743298200", datetime(2025, 3, 30, 1, 30, tzinfo=UTC)),
        ("1743298200000", datetime(2025, 3, 30, 1, 30, tzinfo=UTC)),
        ("30/03/2025", datetime(2025, 3, 30)),
        ("", None),
    ],
)
def test_datetimes(text: str, expected: datetime | None) -> None:
    assert converter("datetime")(text) == expected


def test_datetime_formats() -> None:
    assert converter("datetime", fmt="%Y%m%d %H%M")("20250330 0930") == datetime(2025, 3, 30, 9, 30)
    assert converter("datetime", fmt="epoch")("1743298200") == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert converter("datetime", fmt="epoch_ms")("1743298200500") == datetime(2025, 3, 30, 1, 30, 0, 500000,
                                                                                tzinfo=UTC)
    # The declared format is tried first, other spellings are still read.
    assert converter("datetime", fmt="%d/%m/%Y %H:%M")("2025-03-30 09:30") == datetime(2025, 3, 30, 9, 30)
    with pytest.raises(ValueError):
        converter("datetime", fmt="epoch")("demain")


@pytest.mark.parametrize("text", ["30/03/2025 25:00", "bientôt", "30/03/2025 09:75", "2025-13-01 10:00"])
def test_bad_datetimes_raise(text: str) -> None:
    with pytest.raises(ValueError):
        converter("datetime")(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:30", time(9, 30)), ("09:30:15", time(9, 30, 15)), ("09h30", time(9, 30)), ("9h", time(9)),
     ("9:30", time(9, 30)), ("9:30 PM", time(21, 30)), ("", None)],
)
def test_times(text: str, expected: time | None) -> None:
    assert converter("time", fmt="%H:%M")(text) == expected


@pytest.mark.parametrize("text", ["25:00", "09:61", "midi", "930"])
def test_bad_times_raise(text: str) -> None:
    with pytest.raises(ValueError):
        converter("time")(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("01:02:03", 3723.0), ("10:59", 659.0), ("10m 59s", 659.0), ("1h 2m", 3720.0), ("1h30", 5400.0),
     ("1 h 30 min", 5400.0), ("PT1H30M", 5400.0), ("PT45.5S", 45.5), ("P1DT2H", 93600.0), ("90", 90.0),
     ("12,5", 12.5), ("00:00:01,5", 1.5), ("2 min", 120.0), ("", None), ("-", None)],
)
def test_durations(text: str, expected: float | None) -> None:
    assert parse_duration(text) == expected
    assert converter("duration_s")(text) == expected


def test_duration_hours_minutes_format() -> None:
    assert converter("duration_s", fmt="hh:mm")("10:59") == 10 * 3600 + 59 * 60


@pytest.mark.parametrize("text", ["abc", "P", "PT", "10 minutes et demie", "1h 2x"])
def test_bad_durations_raise(text: str) -> None:
    with pytest.raises(ValueError):
        converter("duration_s")(text)


def test_strings_and_maps() -> None:
    assert converter("string")("  Dupont ") == "Dupont"
    assert converter("string")("") is None
    assert converter("string")("-") == "-"  # a string keeps what was written
    direction = converter("string", mapping={"E": "in", "S": "out"})
    assert (direction("e"), direction("S"), direction("X"), direction("")) == ("in", "out", "X", None)


def test_unknown_type() -> None:
    with pytest.raises(ValueError):
        converter("colour")


def test_excel_serials() -> None:
    assert excel_serial(45746.5) == datetime(2025, 3, 30, 12, 0)
    assert excel_serial(45746 + 9.5 / 24) == datetime(2025, 3, 30, 9, 30)
    with pytest.raises(ValueError):
        excel_serial(-1)


def test_spreadsheet_cells() -> None:
    def cells(kind: str) -> values.CellConverter:
        return cell_converter(kind, converter(kind))

    assert cells("date")(45746.0) == date(2025, 3, 30)
    assert cells("date")(datetime(2025, 3, 30, 9, 0)) == date(2025, 3, 30)
    assert cells("date")("30/03/2025") == date(2025, 3, 30)
    assert cells("datetime")(date(2025, 3, 30)) == datetime(2025, 3, 30)
    assert cells("datetime")(45746.5) == datetime(2025, 3, 30, 12)
    assert cells("time")(0.25) == time(6)
    assert cells("time")(datetime(1899, 12, 30, 9, 30)) == time(9, 30)
    assert cells("time")(timedelta(hours=9, minutes=30)) == time(9, 30)
    assert cells("integer")(12.0) == 12
    assert cells("number")(3) == 3.0
    assert cells("boolean")(True) is True
    assert cells("boolean")(0.0) is False
    assert cells("string")(959760207.0) == "959760207"
    assert cells("string")(12.5) == "12.5"
    assert cells("duration_s")(timedelta(minutes=10, seconds=59)) == 659.0
    assert cells("duration_s")(time(0, 10, 59)) == 659.0
    assert cells("string")("") is None
    for kind, cell in (("integer", 12.5), ("boolean", 2.0), ("time", 1.5), ("date", time(9)), ("number", True),
                       ("datetime", time(9)), ("time", date(2025, 1, 1))):
        with pytest.raises(ValueError):
            cells(kind)(cell)


def test_format_value_is_the_way_back() -> None:
    assert format_value("number", 12.5, decimal=",") == "12,5"
    assert format_value("number", 12.0, decimal=",") == "12"
    assert format_value("number", 1e-7, decimal=".") == "0.0000001"
    assert format_value("number", 48.8566, decimal=",", precision=6) == "48,856600"
    assert format_value("integer", 12) == "12"
    assert format_value("boolean", True) == "Oui"
    assert format_value("boolean", False, fmt="VRAI/FAUX") == "FAUX"
    assert format_value("boolean", False, fmt="checkbox") == ""
    assert format_value("duration_s", 3723.0, fmt="hh:mm:ss") == "01:02:03"
    assert format_value("duration_s", 659.0, fmt="mm:ss") == "10:59"
    assert format_value("duration_s", 5400.0, fmt="iso") == "PT1H30M0S"
    assert format_value("duration_s", 12.5, decimal=",") == "12,5"
    assert format_value("date", date(2025, 3, 30)) == "30/03/2025"
    assert format_value("time", time(9, 30), fmt="%H:%M") == "09:30"
    assert format_value("datetime", datetime(2025, 3, 30, 9, 30)) == "30/03/2025 09:30:00"
    assert format_value("datetime", datetime(2025, 3, 30, 1, 30, tzinfo=UTC), fmt="epoch") == "1743298200"
    assert format_value("string", "in", mapping={"E": "in", "S": "out"}) == "E"
    assert format_value("string", None) == ""
    for kind, text in (("number", "1 234,5"), ("duration_s", "01:02:03"), ("boolean", "Oui")):
        value = converter(kind)(text)
        assert converter(kind)(format_value(kind, value, fmt="hh:mm:ss" if kind == "duration_s" else None)) == value
