"""Every format: canonical rows → its bytes → parsed back → equal; arbitrary bytes → only InputError.

Parsers opt in by implementing ``render`` and ``row_strategy`` (rows as the format gives them back).
"""

from __future__ import annotations

import contextlib
import functools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.sources import registry
from auditor.sources.base import Parser, Source
from auditor.testing import strategies
from tests.conftest import REAL_EXPORTS, SAMPLES


def _renders(parser: Parser) -> bool:
    return type(parser).render is not Parser.render and type(parser).row_strategy is not Parser.row_strategy


ALL = [p.name for p in registry.parsers()]
ROUNDTRIP = [p.name for p in registry.parsers() if _renders(p)]


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return bool(got == want)


def _file_name(parser: Parser) -> str:
    pattern = parser.patterns[0] if parser.patterns else "export.txt"
    return pattern.replace("*", "roundtrip")


@pytest.mark.parametrize("name", ROUNDTRIP)
@given(data=st.data())
def test_round_trip(name: str, data: st.DataObject) -> None:
    parser = registry.get(name)
    raw, rows = data.draw(strategies.export(name))
    dataset = load([Source.from_bytes(raw, _file_name(parser))], ReadOptions(parser=name, agent="agent"))
    got = dataset.tables[parser.kind].to_pylist() if parser.kind in dataset.tables else []
    assert dataset.rejects.num_rows == 0, dataset.rejects.to_pylist()
    assert len(got) == len(rows)
    for got_row, want_row in zip(got, rows, strict=True):
        for field in parser.roundtrip_fields:
            assert _same(got_row[field], want_row[field]), (field, got_row[field], want_row[field])


@pytest.mark.parametrize("name", ALL)
@given(raw=st.binary(max_size=3000))
def test_arbitrary_bytes_only_raise_input_error(name: str, raw: bytes) -> None:
    with contextlib.suppress(InputError):
        load([Source.from_bytes(raw, "fuzz.txt")], ReadOptions(parser=name))


@functools.cache
def _samples_of(name: str) -> tuple[Path, ...]:
    """Sample exports and real third-party files (when present) that ``name`` reads."""
    found: list[Path] = []
    for folder in (SAMPLES, REAL_EXPORTS):
        if folder.is_dir():
            found.extend(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".md"))
    readable = []
    for path in sorted(found):
        with contextlib.suppress(InputError):
            if registry.detect(Source.from_path(path)).parser == name:
                readable.append(path)
    return tuple(readable)


@st.composite
def _mutation(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            out[at] = draw(st.integers(0, 255))
        elif action == "delete":
            del out[at : at + draw(st.integers(1, 40))]
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            del out[at:]
    return bytes(out)


@pytest.mark.parametrize("name", ALL)
@given(data=st.data())
def test_mutated_samples_only_raise_input_error(name: str, data: st.DataObject) -> None:
    parser = registry.get(name)
    candidates = _samples_of(name)
    if not candidates:
        pytest.skip(f"no sample export for {name} yet")
    sample = data.draw(st.sampled_from(candidates))
    mutated = data.draw(_mutation(sample.read_bytes()[:20000]))
    with contextlib.suppress(InputError):
        load([Source.from_bytes(mutated, sample.name)], ReadOptions(parser=parser.name))
