"""Block reading shared by the fast paths: whole lines, every byte once, and the plain-ASCII test."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

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


@settings(max_examples=200)
@given(lines=st.lists(st.text(alphabet="ab;é", max_size=40), max_size=30), end=st.booleans(),
       size=st.integers(1, 64), skip=st.integers(0, 20))
def test_blocks_of_a_file_are_the_blocks_of_its_stream(tmp_path_factory: Any, lines: list[str], end: bool,
                                                        size: int, skip: int) -> None:
    """From a file, blocks are read with ``pread`` (their end found first): the same blocks as from a stream,
    from where the stream was (a parser seeks past a byte order mark, or reads a header first)."""
    data = ("\n".join(lines) + ("\n" if end and lines else "")).encode()
    path = tmp_path_factory.mktemp("blocks") / "data.csv"
    path.write_bytes(data)
    skip = min(skip, len(data))
    with path.open("rb") as stream:
        stream.read(skip)
        from_file = list(byte_blocks(stream, size))
    stream_blocks = io.BytesIO(data)
    stream_blocks.seek(skip)
    assert from_file == list(byte_blocks(stream_blocks, size))


def test_a_very_long_line_of_a_file_is_cut_as_from_a_stream(tmp_path: Path) -> None:
    data = b"x" * 100 + b"\nend\n" + b"y" * 300_000 + b"\n" + b"z" * 70_000
    path = tmp_path / "long.log"
    path.write_bytes(data)
    for size in (8, 1 << 16):
        with path.open("rb") as stream:
            assert list(byte_blocks(stream, size)) == list(byte_blocks(io.BytesIO(data), size))
