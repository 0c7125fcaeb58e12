"""The canonical kinds: well-formed Table Schemas that turn into Arrow schemas."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from auditor import schemas

SENSITIVITY = {"identifier", "timing", "location", "behaviour", "content", "third_party", "special_category",
               "provenance"}


@pytest.mark.parametrize("kind", schemas.KINDS)
def test_kind_schema_is_complete(kind: str) -> None:
    schema = schemas.get(kind)
    assert schema.names[-3:] == schemas.BOOKKEEPING
    assert "agent" in schema.names
    for field in schema.fields:
        assert field.sensitivity in SENSITIVITY
        assert field.description["fr"] and field.description["en"]
        assert field.title["fr"] and field.title["en"]
    assert all(t == schemas.TIME_TYPE for t in (schema.field(n).arrow_type for n in schema.time_fields))


def test_bookkeeping_fields_are_identical_everywhere() -> None:
    texts = {json.dumps([f for f in schemas.get(k).descriptor["fields"] if f["name"] in schemas.BOOKKEEPING])
             for k in schemas.KINDS}
    assert len(texts) == 1


def test_validate_finds_wrong_types_and_empty_required_values() -> None:
    good = schemas.empty_table("case_actions")
    assert schemas.validate(good, "case_actions") == []
    bad = pa.table({name: pa.array([None], pa.string()) for name in schemas.get("case_actions").names})
    problems = schemas.validate(bad, "case_actions")
    assert any("time" in p for p in problems)
