"""``render.indented_json`` (orjson) writes the same document as the standard library's indented, sorted JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.report.render import indented_json

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
