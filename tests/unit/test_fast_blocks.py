"""Block reading shared by the fast paths: whole lines, every byte once, and the plain-ASCII test."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.sources.base import byte_blocks, plain_ascii

_CONTROLS = bytes([*range(0, 10), 11, 12, *range(14, 32), 127])


def _reference_plain(block: bytes) -> bool:
    """The definition: ASCII, no control byte but LF and CR, and a CR only before a LF."""
    return (block.isascii() and not any(b in _CONTROLS for b in block)
            and block.count(b"\r") == block.count(b"\r\n"))


@settings(max_examples=300)
@given(st.binary(max_size=200) | st.text(alphabet=st.sampled_from("ab \t\r\n\x00\x7fé"), max_size=60).map(
    lambda t: t.encode()))
def test_plain_ascii_follows_its_definition(block: bytes) -> None:
    assert plain_ascii(block) is _reference_plain(block)


@settings(max_examples=200)
@given(lines=st.lists(st.text(alphabet="ab;é", max_size=12), max_size=30), end=st.booleans(),
       size=st.integers(8, 64))
def test_blocks_are_whole_lines_and_hold_every_byte_once(lines: list[str], end: bool, size: int) -> None:
    data = ("\n".join(lines) + ("\n" if end and lines else "")).encode()
    blocks = list(byte_blocks(io.BytesIO(data), size))
    assert b"".join(blocks) == data
    assert all(block.endswith(b"\n") for block in blocks[:-1])
    assert all(block for block in blocks)


def test_a_very_long_line_is_cut_after_four_block_sizes() -> None:
    data = b"x" * 100 + b"\nend\n"
    blocks = list(byte_blocks(io.BytesIO(data), 8))
    assert b"".join(blocks) == data
    assert len(blocks[0]) > 32 and not blocks[0].endswith(b"\n")
