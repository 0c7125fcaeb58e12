"""The canonical time rules: naive → export zone, DST ambiguity and gaps counted, sentinels dropped."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.io.times import localize, parse_clock, parse_date, parse_datetime, to_utc, zone

PARIS = zone("Europe/Paris")


def test_naive_winter_and_summer_times_take_the_paris_offset() -> None:
    assert localize(datetime(2026, 1, 15, 9, 0), PARIS) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert localize(datetime(2026, 7, 15, 9, 0), PARIS) == datetime(2026, 7, 15, 7, 0, tzinfo=UTC)


def test_repeated_autumn_hour_takes_the_first_occurrence_and_is_counted() -> None:
    counts: Counter[str] = Counter()
    value = localize(datetime(2026, 10, 25, 2, 30), PARIS, counts)
    assert value == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST (+02:00)
    assert counts == {"dst-ambiguous": 1}


def test_skipped_spring_hour_moves_one_hour_later_and_is_counted() -> None:
    counts: Counter[str] = Counter()
    value = localize(datetime(2026, 3, 29, 2, 30), PARIS, counts)
    assert value == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # shown as 03:30 CEST
    assert value.astimezone(PARIS).hour == 3
    assert counts == {"dst-nonexistent": 1}


def test_ordinary_times_count_nothing() -> None:
    counts: Counter[str] = Counter()
    localize(datetime(2026, 3, 29, 4, 0), PARIS, counts)
    localize(datetime(2026, 10, 25, 3, 30), PARIS, counts)
    assert not counts


def test_aware_times_are_exact_and_sentinels_become_missing() -> None:
    counts: Counter[str] = Counter()
    aware = datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert to_utc(aware, PARIS, counts) == aware
    assert to_utc(datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC), PARIS, counts) is None
    assert counts == {"sentinel-time": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("31/12/2025", date(2025, 12, 31)), ("01/02/26", date(2026, 2, 1)), ("2026-03-29", date(2026, 3, 29)),
     ("29.03.2026", date(2026, 3, 29)), ("20260329", date(2026, 3, 29)), ("31/02/2026", None), ("hier", None)],
)
def test_french_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:00", time(8)), ("8:05:09", time(8, 5, 9)), ("09h30", time(9, 30)), ("9h", time(9)), ("12h50", time(12, 50)),
     ("10:00:00 PM", time(22)), ("25:00", None), ("0930", None), ("", None)],
)
def test_clock_times(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-24T06:54:24.0000000Z ", datetime(2026, 1, 24, 6, 54, 24, tzinfo=UTC)),
        ("1901-12-13T20:45:52.2073437Z", datetime(1901, 12, 13, 20, 45, 52, 207343, tzinfo=UTC)),
        ("2024-06-01T10:00:00.123+01:00", datetime(2024, 6, 1, 9, 0, 0, 123000, tzinfo=UTC)),
        ("2013-01-01T12:00:00", datetime(2013, 1, 1, 12)),
        ("15/11/22, 09:30:47", datetime(2022, 11, 15, 9, 30, 47)),
        ("01/01/2023 12h50", datetime(2023, 1, 1, 12, 50)),
        ("1286536308.779", datetime(2010, 10, 8, 11, 11, 48, 779000, tzinfo=UTC)),
        ("1700000000123", datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("n'importe quoi", None),
    ],
)
def test_datetimes(text: str, expected: datetime | None) -> None:
    got = parse_datetime(text)
    assert got == expected
    if expected is not None:
        assert (got.tzinfo is None) == (expected.tzinfo is None)  # type: ignore[union-attr]


def test_month_first_when_asked() -> None:
    assert parse_datetime("3/4/2024 10:00:00 AM", monthfirst=True) == datetime(2024, 3, 4, 10)


@given(st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2100, 12, 31)))
def test_cached_offsets_of_the_parse_context_follow_the_full_rule(value: datetime) -> None:
    from auditor.sources.base import ParseContext

    ctx = ParseContext(file="x", tool="t", tz=PARIS, agent_hint="a")
    reference: Counter[str] = Counter()
    for moment in (value, value.replace(minute=0), value + timedelta(minutes=59)):
        assert ctx.time(moment) == to_utc(moment, PARIS, reference)
    for edge in (datetime(2026, 3, 29, 2, 30), datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 1, 59)):
        assert ctx.time(edge) == to_utc(edge, PARIS, reference)
    ctx.counts.pop("timezone-missing", None)
    assert ctx.counts == reference
