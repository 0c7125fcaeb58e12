"""Canonical time rules: every time becomes an aware UTC instant, and every guess is counted.

* A time with an offset or ``Z`` is exact.
* A naive time is read in the export's zone (default ``Europe/Paris``).
* A naive time in the repeated hour of the autumn change (ambiguous) takes its **first** occurrence
  (summer time, ``fold=0``); one in the skipped hour of the spring change (non-existent) is read with
  the offset in force just before the change, which moves it **one hour later** on the wall clock
  (02:30 → 03:30 CEST). Both are counted (warnings ``dst-ambiguous`` / ``dst-nonexistent``).
* Known dummy values (the 32-bit epoch minimum 1901-12-13T20:45:52Z that GPS tools write for "no
  time", Excel's day zero) are treated as missing and counted (``sentinel-time``).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor.errors import UsageError

DEFAULT_ZONE = "Europe/Paris"

SENTINELS = (
    datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC),
    datetime(1899, 12, 30, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (default Paris). An unknown name is refused: reading the times in another
    zone than the one the provenance names would shift every time silently."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError("timezone-invalid", zone=str(name)[:80]) from None


def localize(naive: datetime, tz: tzinfo, counts: Counter[str] | None = None) -> datetime:
    """The UTC instant of a wall-clock time in ``tz``, by the rule in this module's docstring."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset() and counts is not None:
        # Both folds differ: either the hour exists twice or not at all.
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        counts["dst-ambiguous" if back == naive else "dst-nonexistent"] += 1
    return first.astimezone(UTC)


def to_utc(value: datetime, tz: tzinfo, counts: Counter[str] | None = None) -> datetime | None:
    """Aware UTC from an aware or naive datetime; ``None`` for a sentinel (counted)."""
    aware = value.astimezone(UTC) if value.tzinfo is not None else localize(value, tz, counts)
    if _is_sentinel(aware):
        if counts is not None:
            counts["sentinel-time"] += 1
        return None
    return aware


def _is_sentinel(value: datetime) -> bool:
    return any(abs((value - s).total_seconds()) < 1 for s in SENTINELS)


# --- text forms -----------------------------------------------------------------------------------

_DATE_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2})$"), ("d", "m", "yy")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
)

_CLOCK = re.compile(
    r"^(?P<h>\d{1,2})\s*(?:[:hH]\s*(?P<m>\d{2})?(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?$"
)


def parse_date(text: str, *, monthfirst: bool = False) -> date | None:
    """``dd/mm/yyyy``, ``dd/mm/yy``, ``dd.mm.yyyy``, ISO ``yyyy-mm-dd``, ``yyyymmdd``; None if unreadable."""
    text = text.strip()
    for pattern, order in _DATE_FORMS:
        match = pattern.match(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        year = int(parts["y"]) if "y" in parts else 2000 + int(parts["yy"])
        if "yy" in parts and year > datetime.now(UTC).year + 20:
            year -= 100
        day, month = int(parts["d"]), int(parts["m"])
        if monthfirst and order[0] == "d":
            day, month = month, day
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def parse_clock(text: str) -> time | None:
    """``HH:MM``, ``HH:MM:SS[.fff]``, ``09h30``, ``9h``, ``10:00:00 AM``; None if unreadable."""
    match = _CLOCK.match(text.strip())
    if not match or (match.group("m") is None and ":" in text):
        return None
    hour = int(match.group("h"))
    minute = int(match.group("m") or 0)
    second = int(match.group("s") or 0)
    micro = int((match.group("f") or "0").ljust(6, "0")[:6])
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if not ("h" in text.lower() or ":" in text or ampm):
        return None  # a bare number is not a time of day
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        return None


_EPOCH = re.compile(r"^\d{9,13}(?:\.\d{1,6})?$")
_ISO_SPACE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d")


def parse_datetime(text: str, *, monthfirst: bool = False) -> datetime | None:
    """A date and time in one string, naive or aware; None if unreadable.

    ISO 8601 (any fraction, ``Z`` or offset), ``dd/mm/yyyy HH:MM[:SS]`` and its variants, epoch seconds
    (9–10 digits, optional fraction) or milliseconds (13 digits).
    """
    text = text.strip()
    if not text:
        return None
    if _EPOCH.match(text):
        number = float(text)
        if len(text.split(".")[0]) == 13:
            number /= 1000
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if _ISO_SPACE.match(text):
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        iso = _trim_fraction(iso)
        try:
            return datetime.fromisoformat(iso)
        except ValueError:
            return None
    for separator in (" ", "T", ","):
        if separator in text:
            left, _, right = text.partition(separator)
            day = parse_date(left.rstrip(","), monthfirst=monthfirst)
            clock = parse_clock(right.strip().lstrip(",").strip())
            if day and clock:
                return datetime.combine(day, clock)
    day = parse_date(text, monthfirst=monthfirst)
    return datetime.combine(day, time()) if day else None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _trim_fraction(iso: str) -> str:
    return _FRACTION.sub(r"\1", iso)


def combine(day: date, clock: time | None) -> datetime:
    return datetime.combine(day, clock or time())


def plus_seconds(value: datetime | None, seconds: float | None) -> datetime | None:
    if value is None or seconds is None:
        return None
    return value + timedelta(seconds=seconds)
