"""Typed cell converters for French exports: numbers, booleans, dates, times, durations.

A converter takes the text of one cell and returns a Python value, ``None`` for an empty cell (or
``-``), and raises ``ValueError`` when the text cannot be read: the caller then rejects the row with the
field and the value — a bad value is never silently turned into ``None``. Converters run once per cell,
so each is built once per column (``converter(type, ...)``) with its fast path first (``float()``,
``datetime.fromisoformat``, fixed-position slicing) and the tolerant parsers of ``auditor.io.times``
only as a fallback.

``format_value`` is the way back, used to write exports as the tools do.

Spreadsheet cells arrive typed (floats, datetimes, booleans): ``cell_converter`` wraps a text converter
with the conversions of typed cells, including Excel serial dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from auditor.io.times import parse_clock, parse_date, parse_datetime

TYPES = ("string", "integer", "number", "boolean", "datetime", "date", "time", "duration_s")
TEMPORAL = frozenset({"datetime", "date", "time", "duration_s"})

#: Cell texts that mean "no value" for typed columns (strings keep ``-`` as written).
NULLS = frozenset({"", "-", "--", "—", "–"})

#: Thousands separators: space, NBSP (U+00A0), narrow NBSP (U+202F), thin space, Swiss apostrophe.
_THOUSANDS = str.maketrans("", "", " \u00a0\u202f\u2009'’")
_GROUPED_COMMA = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+$")
_GROUPED_DOT = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+$")

#: What render writes when a column declares no format.
DEFAULT_FORMATS = {"datetime": "%d/%m/%Y %H:%M:%S", "date": "%d/%m/%Y", "time": "%H:%M:%S"}

TextConverter = Callable[[str], Any]
CellConverter = Callable[[object], Any]


# --- numbers -------------------------------------------------------------------------------------

def parse_number(text: str, decimal: str = ",") -> float | None:
    """``12,5``, ``1 234,5`` (NBSP or narrow NBSP), ``1.234,5``, ``1,234.5``, ``-`` → None; else ValueError."""
    t = text.strip()
    if t in NULLS:
        return None
    t = t.translate(_THOUSANDS)
    if "," in t:
        if "." in t:
            last_is_comma = t.rfind(",") > t.rfind(".")
            t = t.replace(".", "").replace(",", ".") if last_is_comma else t.replace(",", "")
        elif decimal == "." and _GROUPED_COMMA.match(t):
            t = t.replace(",", "")
        else:
            t = t.replace(",", ".")
    elif t.count(".") > 1 and _GROUPED_DOT.match(t):
        t = t.replace(".", "")
    value = float(t)
    if value - value != 0.0:  # NaN or infinity: not a measurement
        raise ValueError(text)
    return value


def number_converter(decimal: str = ",") -> TextConverter:
    """Float of a cell; the common spellings go through ``float()`` directly."""
    if decimal == ",":
        def convert(text: str) -> float | None:
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                return parse_number(text, decimal)
            if value - value != 0.0:
                raise ValueError(text)
            return value
    else:
        def convert(text: str) -> float | None:
            try:
                value = float(text)
            except ValueError:
                return parse_number(text, decimal)
            if value - value != 0.0:
                raise ValueError(text)
            return value
    return convert


def integer_converter(decimal: str = ",") -> TextConverter:
    def convert(text: str) -> int | None:
        try:
            return int(text)
        except ValueError:
            value = parse_number(text, decimal)
        if value is None:
            return None
        if not value.is_integer():
            raise ValueError(text)
        return int(value)
    return convert


# --- booleans ------------------------------------------------------------------------------------

_BOOLEANS = {
    "oui": True, "non": False, "o": True, "n": False, "vrai": True, "faux": False,
    "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False, "y": True,
    "x": True, "v": True, "✓": True, "✔": True, "actif": True, "inactif": False,
}


def parse_boolean(text: str, empty: bool | None = None) -> bool | None:
    """``Oui/Non``, ``O/N``, ``VRAI/FAUX``, ``true/false``, ``1/0``, ``yes/no``, ``x``; ``empty`` for a blank."""
    t = text.strip()
    if not t:
        return empty
    if t in NULLS:
        return None
    try:
        return _BOOLEANS[t.casefold()]
    except KeyError:
        raise ValueError(text) from None


def boolean_converter(fmt: str | None = None) -> TextConverter:
    """``format: checkbox`` reads an empty cell as False (a box left unticked)."""
    empty: bool | None = False if fmt == "checkbox" else None
    table = dict(_BOOLEANS)
    if fmt and "/" in fmt:  # "Présent/Absent": the profile's own words
        yes, _, no = fmt.partition("/")
        table[yes.strip().casefold()] = True
        table[no.strip().casefold()] = False

    def convert(text: str) -> bool | None:
        t = text.strip()
        if not t:
            return empty
        if t in NULLS:
            return None
        try:
            return table[t.casefold()]
        except KeyError:
            raise ValueError(text) from None
    return convert


# --- dates and times -----------------------------------------------------------------------------

def _epoch(text: str, millis: bool) -> datetime:
    number = float(text.replace(",", "."))
    if millis:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError) as error:
        raise ValueError(text) from error


def datetime_converter(dayfirst: bool = True, fmt: str | None = None) -> TextConverter:
    """Naive or aware datetime: ISO, ``dd/mm/yyyy HH:MM[:SS]``, ``fmt``, then what ``parse_datetime`` reads."""
    monthfirst = not dayfirst
    if fmt in ("epoch", "epoch_ms"):
        millis = fmt == "epoch_ms"

        def from_epoch(text: str) -> datetime | None:
            t = text.strip()
            return None if t in NULLS else _epoch(t, millis)
        return from_epoch

    def convert(text: str) -> datetime | None:
        n = len(text)
        if n >= 10 and text[4] == "-":
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        elif (n == 19 or n == 16) and text[2] == "/" and text[5] == "/" and text[13] == ":":
            try:
                first, second = int(text[0:2]), int(text[3:5])
                day, month = (second, first) if monthfirst else (first, second)
                return datetime(int(text[6:10]), month, day, int(text[11:13]), int(text[14:16]),
                                int(text[17:19]) if n == 19 else 0)
            except ValueError:
                pass
        t = text.strip()
        if t in NULLS:
            return None
        if fmt:
            try:
                return datetime.strptime(t, fmt)
            except ValueError:
                pass
        value = parse_datetime(t, monthfirst=monthfirst)
        if value is None:
            raise ValueError(text)
        return value
    return convert


def date_converter(dayfirst: bool = True, fmt: str | None = None) -> TextConverter:
    """Date of a cell: ``dd/mm/yyyy`` fast, then ``fmt``, then ``parse_date`` (a datetime text gives its date).

    A column whose format is month first (``%m/%d/%Y``, US exports) is read month first whatever the file's
    dates suggest: a short US export whose days are all below 13 cannot show its order.
    """
    monthfirst = not dayfirst or bool(fmt and fmt.startswith("%m/%d/"))

    def convert(text: str) -> date | None:
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            try:
                first, second = int(text[0:2]), int(text[3:5])
                day, month = (second, first) if monthfirst else (first, second)
                return date(int(text[6:10]), month, day)
            except ValueError:
                pass
        t = text.strip()
        if t in NULLS:
            return None
        if fmt:
            try:
                return datetime.strptime(t, fmt).date()
            except ValueError:
                pass
        value = parse_date(t, monthfirst=monthfirst)
        if value is None:
            moment = parse_datetime(t, monthfirst=monthfirst)
            if moment is None:
                raise ValueError(text)
            return moment.date()
        return value
    return convert


def time_converter(fmt: str | None = None) -> TextConverter:
    """Time of day: ``HH:MM`` and ``HH:MM:SS`` fast, then ``fmt``, then ``parse_clock`` (``09h30``, ``9:30 AM``)."""

    def convert(text: str) -> time | None:
        n = len(text)
        if (n == 5 or n == 8) and text[2] == ":":
            try:
                return time(int(text[0:2]), int(text[3:5]), int(text[6:8]) if n == 8 else 0)
            except ValueError:
                pass
        t = text.strip()
        if t in NULLS:
            return None
        if fmt:
            try:
                return datetime.strptime(t, fmt).time()
            except ValueError:
                pass
        value = parse_clock(t)
        if value is None:
            raise ValueError(text)
        return value
    return convert


# --- durations -----------------------------------------------------------------------------------

_CLOCK_DURATION = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2})(?:[.,](\d+))?$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<m>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
_UNIT_TOKEN = re.compile(r"(\d+(?:[.,]\d+)?)\s*(ms|sec|secs|s|min|mins|mn|m|h|hr|hrs|heures?|j|jours?|d|days?)\.?"
                         r"(?![a-z])", re.IGNORECASE)
_HOURS_MINUTES = re.compile(r"^(\d+)\s*h\s*(\d{1,2})$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0, "min": 60.0, "mins": 60.0, "mn": 60.0,
                 "m": 60.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "heure": 3600.0, "heures": 3600.0,
                 "j": 86400.0, "jour": 86400.0, "jours": 86400.0, "d": 86400.0, "day": 86400.0, "days": 86400.0}


def _num(text: str | None) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def parse_duration(text: str, *, hours_minutes: bool = False) -> float | None:
    """Seconds in ``HH:MM:SS``, ``MM:SS`` (``HH:MM`` if ``hours_minutes``), ``10m 59s``, ``1h 2m``,
    ``1h30``, ISO ``PT1H30M``, or plain seconds (decimal comma allowed); ValueError if unreadable."""
    t = text.strip()
    if t in NULLS:
        return None
    try:
        return float(t.replace(",", "."))
    except ValueError:
        pass
    match = _CLOCK_DURATION.match(t)
    if match:
        hours, first, second, fraction = match.groups()
        if hours is not None:
            seconds = int(hours) * 3600 + int(first) * 60 + int(second)
        elif hours_minutes:
            seconds = int(first) * 3600 + int(second) * 60
        else:
            seconds = int(first) * 60 + int(second)
        return seconds + (float("0." + fraction) if fraction else 0.0)
    match = _ISO_DURATION.match(t)
    if match and t.upper() not in ("P", "PT"):
        return (_num(match["d"]) * 86400 + _num(match["h"]) * 3600 + _num(match["m"]) * 60 + _num(match["s"]))
    match = _HOURS_MINUTES.match(t)
    if match:
        return int(match[1]) * 3600.0 + int(match[2]) * 60.0
    tokens = _UNIT_TOKEN.findall(t)
    if tokens and not _UNIT_TOKEN.sub("", t).strip(" ,"):
        return sum(_num(amount) * _UNIT_SECONDS[unit.lower()] for amount, unit in tokens)
    raise ValueError(text)


def duration_converter(fmt: str | None = None) -> TextConverter:
    hours_minutes = fmt in ("hh:mm", "%H:%M")

    def convert(text: str) -> float | None:
        try:
            value = float(text)
        except ValueError:
            return parse_duration(text, hours_minutes=hours_minutes)
        if value - value != 0.0:
            raise ValueError(text)
        return value
    return convert


def string_converter(mapping: dict[str, str] | None = None) -> TextConverter:
    """Stripped text, empty → None; ``mapping`` (keys case-folded) turns vendor codes into words."""
    if not mapping:
        def plain(text: str) -> str | None:
            return text.strip() or None
        return plain
    table = {k.strip().casefold(): v for k, v in mapping.items()}

    def mapped(text: str) -> str | None:
        t = text.strip()
        if not t:
            return None
        return table.get(t.casefold(), t)
    return mapped


def converter(kind: str, *, decimal: str = ",", dayfirst: bool = True, fmt: str | None = None,
              mapping: dict[str, str] | None = None) -> TextConverter:
    """The text converter for a column of ``kind`` (one of ``TYPES``)."""
    if kind == "string":
        return string_converter(mapping)
    if kind == "integer":
        return integer_converter(decimal)
    if kind == "number":
        return number_converter(decimal)
    if kind == "boolean":
        return boolean_converter(fmt)
    if kind == "datetime":
        return datetime_converter(dayfirst, fmt)
    if kind == "date":
        return date_converter(dayfirst, fmt)
    if kind == "time":
        return time_converter(fmt)
    if kind == "duration_s":
        return duration_converter(fmt)
    raise ValueError(f"unknown value type {kind!r}")


# --- spreadsheet cells ---------------------------------------------------------------------------

EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_MAX = 2958466  # 31/12/9999


def excel_serial(value: float) -> datetime:
    """The naive datetime of an Excel serial number (days since 30/12/1899, fraction = time of day)."""
    if not 0 <= value < _EXCEL_MAX:
        raise ValueError(str(value))
    return EXCEL_EPOCH + timedelta(milliseconds=round(value * 86_400_000))


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def cell_text(cell: object) -> str:
    """A typed spreadsheet cell as the text a CSV export of it would hold."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "Oui" if cell else "Non"
    if isinstance(cell, float):
        return _number_text(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell.total_seconds())
    return "" if cell is None else str(cell)


def _typed(kind: str, cell: object) -> Any:
    """The value of a non-text cell for a column of ``kind``; ValueError when it cannot be one."""
    if kind == "string":
        return cell_text(cell) or None
    if isinstance(cell, bool):
        if kind == "boolean":
            return cell
        raise ValueError(str(cell))
    if isinstance(cell, int | float):
        number = float(cell)
        if kind == "number":
            return number
        if kind == "integer":
            if not number.is_integer():
                raise ValueError(str(cell))
            return int(number)
        if kind == "boolean":
            if number in (0.0, 1.0):
                return number == 1.0
            raise ValueError(str(cell))
        if kind == "duration_s":
            return number
        if kind == "datetime":
            return excel_serial(number)
        if kind == "date":
            return excel_serial(number).date()
        if kind == "time":
            if not 0 <= number < 1:
                raise ValueError(str(cell))
            return excel_serial(number).time()
    if isinstance(cell, datetime):
        if kind == "datetime":
            return cell
        if kind == "date":
            return cell.date()
        if kind == "time":
            return cell.time()
    elif isinstance(cell, date):
        if kind == "datetime":
            return datetime.combine(cell, time())
        if kind == "date":
            return cell
    elif isinstance(cell, time):
        if kind == "time":
            return cell
        if kind == "duration_s":
            return cell.hour * 3600.0 + cell.minute * 60 + cell.second + cell.microsecond / 1e6
    elif isinstance(cell, timedelta):
        if kind == "duration_s":
            return cell.total_seconds()
        if kind == "time" and timedelta(0) <= cell < timedelta(days=1):
            return (datetime.min + cell).time()
    raise ValueError(cell_text(cell))


def cell_converter(kind: str, text: TextConverter) -> CellConverter:
    """Wrap a text converter for typed spreadsheet cells (calamine gives str, float, bool, datetimes)."""

    def convert(cell: object) -> Any:
        if isinstance(cell, str):
            return text(cell)
        if cell is None:
            return None
        return _typed(kind, cell)
    return convert


# --- writing values back -------------------------------------------------------------------------

def plain_number(value: float) -> str:
    """Shortest text that reads back as ``value``, without exponent, ``12`` rather than ``12.0``."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.17f}".rstrip("0").rstrip(".")
    return text[:-2] if text.endswith(".0") else text


def duration_text(seconds: float, fmt: str | None) -> str:
    """Seconds as ``fmt`` writes them: seconds (default), ``hh:mm:ss``, ``mm:ss``, ``hh:mm``, ``iso``."""
    if fmt in (None, "seconds"):
        return plain_number(seconds)
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if fmt == "hh:mm:ss":
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if fmt == "mm:ss":
        return f"{hours * 60 + minutes:02d}:{secs:02d}"
    if fmt in ("hh:mm", "%H:%M"):
        return f"{hours:02d}:{minutes:02d}"
    if fmt == "iso":
        return f"PT{hours}H{minutes}M{secs}S"
    return plain_number(seconds)


def format_value(kind: str, value: Any, *, fmt: str | None = None, decimal: str = ",",
                 precision: int | None = None, mapping: Mapping[str, str] | None = None) -> str:
    """The text a tool writes for a typed value of a column of ``kind`` (the inverse of ``converter``)."""
    if value is None or value == "":
        return ""
    if kind == "string":
        text = str(value)
        if mapping:
            for code, word in mapping.items():
                if word == text:
                    return code
        return text
    if kind == "integer":
        return str(int(value))
    if kind == "number":
        number = float(value)
        text = f"{number:.{precision}f}" if precision is not None else plain_number(number)
        return text.replace(".", decimal) if decimal != "." else text
    if kind == "boolean":
        if fmt == "checkbox":
            return "x" if value else ""
        yes, _, no = (fmt or "Oui/Non").partition("/")
        return yes if value else no
    if kind == "duration_s":
        text = duration_text(float(value), fmt)
        return text.replace(".", decimal) if decimal != "." else text
    if kind in DEFAULT_FORMATS and isinstance(value, datetime | date | time):
        if kind == "datetime" and fmt in ("epoch", "epoch_ms") and isinstance(value, datetime):
            stamp = value.timestamp()
            return str(int(stamp * 1000)) if fmt == "epoch_ms" else str(int(stamp))
        return value.strftime(fmt or DEFAULT_FORMATS[kind])
    return str(value)
