"""The vectorised reading of derived profile fields (qmatic: split date parts, a time plus a duration, first
non-empty of several columns, joined names) gives exactly the rows, rejects and warnings of the row path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.sources import profiles, profiles_fast, registry
from auditor.sources.profiles import ProfileParser
from tests.helpers import both_paths, fast_blocks

QMATIC = "qmatic-statdb-csv"
HEADER = ("NAME,YEAR,MONTH,DAY,HOUR,MINUTE,STAFF FIRST_NAME,STAFF LAST_NAME,Staff User Name,CUSTOMER NAME,"
          "Customer ID,Service Category,Unit,WAITING_TIME,VISIT_KEY,TICKET_ID,DELIVERED_SERVICE")


def _plain_rows(count: int, day: int = 2) -> list[str]:
    return [f"Site {i % 3},2025,1,{day},{8 + i % 9},{i % 60},,,agent{i % 7},Usager {i},,Accueil,Guichet {i % 4},"
            f"{60 * (i % 50)},,T-{i:06d},servi" for i in range(count)]


def _edgy_qmatic() -> bytes:
    lines = [HEADER, *_plain_rows(30)]
    lines += [
        "Queens,2025,2,30,8,31,,,a1,,,S,U,60,,T1,ok",           # no such day
        "Queens,2025,4,31,8,31,,,a1,,,S,U,60,,T2,ok",           # no such day in April
        "Queens,2025,1,2,24,0,,,a1,,,S,U,60,,T3,ok",            # no such hour
        "Queens,2025,1,2,8,61,,,a1,,,S,U,60,,T4,ok",            # no such minute
        "Queens,2025,1,2,8,,,,a1,,,S,U,60,,T5,ok",              # minute missing: 0
        "Queens,2025,1,,8,5,,,a1,,,S,U,60,,T6,ok",              # day missing: no issue time
        "Queens,2025,3,30,2,30,,,a1,,,S,U,60,,T7,ok",           # the skipped hour of the spring change
        "Queens,2025,10,26,2,30,,,a1,,,S,U,60,,T8,ok",          # the repeated hour of the autumn change
        "Queens,2025,10,26,1,50,,,a1,,,S,U,1200,,T9,ok",        # called in the repeated hour
        "Queens,2025,1,2,8,5,,,a1,,,S,U,1.5,,T10,ok",           # fractional waiting time
        "Queens,2025,1,2,8,5,,,a1,,,S,U,soon,,T11,ok",          # unreadable waiting time
        "Queens,2025,1,2,8,5,,,a1,,,S,U,1e15,,T12,ok",          # called after the end of time
        "Queens,2025,1,2,8,5,,,a1,,,S,U,,,T13,ok",              # no waiting time: no call time
        "Queens,2025,1,2,8,5,,,a1,,,S,U,-60,,T13b,ok",          # called before issued: read as written
        "Queens,2025,1,2,8,5,,,a1,,,S,U,-9223372036854775808,,T13c,ok",  # no such instant
        "Queens,2025,1,2,8,5,Selina,Self,,,X1,S,U,60,K1,,ok",   # first + last name, visit key, customer id
        "Queens,2025,1,2,8,5,Selina,,,,,S,U,60,,T14,ok",        # first name alone
        "Queens,2025,1,2,8,5,,Self,,,,S,U,60,,T15,ok",          # last name alone
        "Queens,2025,1,2,8,5,,,,,,S,U,60,,T16,ok",              # nobody
        "Queens,2025,1,2,8,5,,,a1,,,S,U,60,,,ok",               # no ticket at all
        "Queens,2025,1,2,8,5,, ,a1,,,S,U,60,,T17,ok",           # a blank the row path strips
        "Queens,2025.0,1,2,8,5,,,a1,,,S,U,60,,T18,ok",          # a year with a fraction part
        "Queens,1901,12,13,21,45,,,a1,,,S,U,52,,T19,ok",        # a sentinel
        'Queens,2025,1,2,8,5,,,a1,"Doe, John",,S,U,60,,T20,ok',  # a quoted comma
        "Queens,2025,1,2,8,5,,,a1,,,S,U,60,,T21",               # a field short
        "",
        ",,,,,,,,,,,,,,,,",
        *_plain_rows(30, day=3),
    ]
    return ("\n".join(lines) + "\n").encode()


def _both_paths(data: bytes, monkeypatch: pytest.MonkeyPatch, block: int = 256) -> list[Any]:
    return both_paths(data, "qmatic_statdb.csv", QMATIC, ProfileParser, block, monkeypatch)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    return fast_blocks(monkeypatch, profiles)


@pytest.mark.parametrize("block", [64, 256, 4096, 1 << 20])
def test_qmatic_fast_and_row_paths_agree_on_edges(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, rows = _both_paths(_edgy_qmatic(), monkeypatch, block)
    assert fast == rows
    assert fast[2][2] == 10 and fast[2][3]["dst-ambiguous"] >= 1


def test_qmatic_plain_blocks_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _spy(monkeypatch)
    fast, rows = _both_paths(_edgy_qmatic(), monkeypatch)
    assert fast == rows
    assert any(taken) and not all(taken)


def test_qmatic_synthetic_export_is_read_by_the_fast_path_only(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.synth import scale

    scale.write(QMATIC, 3000, tmp_path)
    data = next(tmp_path.iterdir()).read_bytes()
    taken = _spy(monkeypatch)
    fast, rows = _both_paths(data, monkeypatch, block=16 << 10)
    assert fast == rows
    assert taken and all(taken)


def test_fields_with_no_vectorised_form_keep_the_row_path() -> None:
    """A date column plus a time column (``combine``) has no fast form: the plan says so once per file."""
    parser = registry.get("positions-csv")
    assert isinstance(parser, ProfileParser)
    bound = {"day": 0, "clock": 1, "lat": 2, "lon": 3}
    assert profiles._fast_nodes(parser.profile, bound) is None
    bound = {"stamp": 0, "lat": 2, "lon": 3}
    nodes = profiles._fast_nodes(parser.profile, bound)
    assert nodes is not None and {n.id for n in nodes if n.finish} == {"time", "lat", "lon"}


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_qmatic_fast_and_row_paths_agree_on_generated_exports(data: st.DataObject) -> None:
    from auditor.testing.strategies import export

    raw, _ = data.draw(export(QMATIC, max_rows=40))
    block = data.draw(st.sampled_from([64, 200, 1 << 16]))
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, rows = _both_paths(raw, monkeypatch, block)
    assert fast == rows


@settings(max_examples=300)
@given(texts=st.lists(st.none() | st.text(alphabet=st.sampled_from("ab é\u00a0\u3000\u2029\x1c\t\x85É"), max_size=6),
                      max_size=12), cut=st.integers(0, 3))
def test_trimmed_finds_exactly_the_texts_strip_would_change(texts: list[str | None], cut: int) -> None:
    import pyarrow as pa

    values = pa.array(texts, pa.string()).slice(min(cut, len(texts)))
    expected = all(t == t.strip() for t in values.to_pylist() if t is not None)
    assert profiles_fast._trimmed(values) is expected
