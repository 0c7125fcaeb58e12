"""Pseudonyms are stable for one key and unlinkable across keys; small groups are suppressed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.errors import UsageError
from auditor.privacy import is_small, load_or_create_key, new_key, pseudonym, suppress_counts


@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_pseudonym_is_stable_for_a_key_and_differs_across_keys(identifier: str) -> None:
    key, other = b"k" * 32, b"o" * 32
    assert pseudonym(identifier, key) == pseudonym(identifier, key)
    assert pseudonym(identifier, key) != pseudonym(identifier, other)


def test_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "key"
    first = load_or_create_key(path)
    assert load_or_create_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(new_key()) == 32


@pytest.mark.parametrize("content", [b"\x9b\x00binary", b"not hex", b"abcd\n", b""])
def test_a_file_that_is_not_a_key_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(UsageError) as raised:
        load_or_create_key(path)
    assert raised.value.code == "key-invalid" and str(path) in raised.value.render("en")


def test_groups_smaller_than_k_are_suppressed() -> None:
    assert suppress_counts({"a": 4, "b": 5, "c": 0}, k=5) == {"a": None, "b": 5, "c": 0}
    assert is_small(1) and not is_small(0) and not is_small(None)
