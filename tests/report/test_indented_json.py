"""``render.indented_json`` (orjson) writes the same document as the standard library's indented, sorted JSON, and
``render.plain_json`` reads back what the standard library's round trip does."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from auditor.report.render import indented_json, plain_json

_SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text()
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@given(_DOCUMENTS)
def test_indented_json_reads_back_as_the_document(document: Any) -> None:
    text = indented_json(document)
    assert json.loads(text) == document
    assert text.endswith("\n")


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=30))
def test_without_floats_the_bytes_are_the_standard_library_s(document: Any) -> None:
    assert indented_json(document) == json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_a_value_json_cannot_hold_is_written_null() -> None:
    assert indented_json({"median": float("nan"), "max": float("inf")}) == '{\n  "max": null,\n  "median": null\n}\n'


_OBJECTS = _SCALARS | st.datetimes(timezones=st.none() | st.just(UTC)) | st.dates() \
    | st.floats(allow_nan=False, allow_infinity=False).map(np.float64) | st.integers(-(2**63), 2**63 - 1).map(np.int64)
_VIEWS = st.recursive(_OBJECTS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4)
                      | st.dictionaries(st.integers(-9, 9), inner, max_size=3), max_leaves=30)


@given(_VIEWS)
def test_plain_json_is_the_standard_library_s_round_trip(view: Any) -> None:
    assert plain_json(view) == json.loads(json.dumps(view, ensure_ascii=False, default=str))


def test_plain_json_holds_what_the_written_document_holds() -> None:
    assert plain_json({"median": float("nan"), "big": 2**70}) == {"median": None, "big": 2**70}
