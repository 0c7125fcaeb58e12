"""The fast path's date-time decoding (profiles_fast._local_seconds: a byte-wise shape check, two digits at a
time, day numbers from a table of the block's years) gives what ``datetime`` gives, or turns the block down."""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.sources import profiles_fast

_EPOCH = datetime(1970, 1, 1)
_SHAPES = {
    True: re.compile(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)"),
    False: re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)"),
}


def _reference(texts: list[str], dayfirst: bool) -> list[int] | None:
    """Wall-clock seconds of each text by ``datetime``, or None if one is not a date-time of the block's shape."""
    slashed = texts[0][2:3] == "/"
    if not slashed and texts[0][4:5] != "-":
        return None
    out = []
    for text in texts:
        match = _SHAPES[slashed].fullmatch(text)
        if match is None or not text.isascii():
            return None
        parts = [int(p) for p in match.groups()]
        if slashed:
            day, month, year = parts[:3]
            if not dayfirst:
                day, month = month, day
        else:
            year, month, day = parts[:3]
        try:
            value = datetime(year, month, day, *parts[3:])
        except ValueError:
            return None
        out.append(int((value - _EPOCH).total_seconds()))
    return out


def _cells(texts: list[str]) -> np.ndarray:
    return np.frombuffer("".join(texts).encode(), np.uint8).reshape(len(texts), 19)


def _decoded(texts: list[str], dayfirst: bool) -> list[int] | None:
    local = profiles_fast._local_seconds(_cells(texts), dayfirst)
    return None if local is None else local.tolist()


@st.composite
def _date_times(draw: st.DrawFn) -> str:
    """19-character texts near the shapes: real date-times, impossible days, stray characters."""
    year = draw(st.sampled_from([0, 1, 4, 100, 1600, 1900, 1970, 2000, 2023, 2024, 2025, 2100, 9999]))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 24)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    middle = draw(st.sampled_from(" T"))
    if draw(st.booleans()):
        text = f"{day:02d}/{month:02d}/{year:04d}{middle}{hour:02d}:{minute:02d}:{second:02d}"
    else:
        text = f"{year:04d}-{month:02d}-{day:02d}{middle}{hour:02d}:{minute:02d}:{second:02d}"
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, 18))
        text = text[:at] + draw(st.sampled_from("x/:- 5\x00")) + text[at + 1:]
    return text


@settings(max_examples=400)
@given(st.lists(_date_times(), min_size=1, max_size=6), st.booleans())
def test_decoded_date_times_are_those_of_datetime(texts: list[str], dayfirst: bool) -> None:
    assert _decoded(texts, dayfirst) == _reference(texts, dayfirst)


def test_a_block_of_one_shape_is_decoded_across_years_and_month_ends() -> None:
    texts = [f"{d:02d}/{m:02d}/{y} 23:59:59" for y in (1999, 2000, 2024, 2025) for m in (1, 2, 12)
             for d in (1, 28)] + ["29/02/2024 00:00:00", "31/12/2025 12:00:00"]
    assert _decoded(texts, True) == _reference(texts, True)
    assert _decoded(["29/02/2025 00:00:00", *texts], True) is None  # not a leap year: the row path decides
    iso = ["2025-03-30T02:30:00", "1902-01-01 00:00:00", "9999-12-31 23:59:59"]
    assert _decoded(iso, False) == _reference(iso, False)  # over a century apart: by arithmetic
    assert _decoded(["2025-04-31 00:00:00", *iso], False) is None
