"""The Squid fast path (padding of the elapsed time turned into zeros, pyarrow's CSV split on single spaces,
results and methods checked once per distinct value) reads exactly what the row path reads."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.sources import proxy_fast
from auditor.sources.proxy_logs import SquidNative
from tests.helpers import both_paths, fast_blocks


def _line(stamp: str, elapsed: str, rest: str = "10.0.0.1 TCP_MISS/200 512 GET http://a.fr/p u1 HIER_DIRECT/1.2.3.4 -",
          ) -> str:
    return f"{stamp} {elapsed} {rest}"


def _both_paths(data: bytes, monkeypatch: pytest.MonkeyPatch, block: int) -> list[Any]:
    return both_paths(data, "access.log", "squid-native", SquidNative, block, monkeypatch)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    return fast_blocks(monkeypatch, proxy_fast)


PADDINGS = [_line("1774422622.000", f"{n:6d}") for n in (0, 7, 42, 999, 12345, 999999, 1234567, 12345678901)]

ODD_LINES = [
    _line("1774422622.000", "       5"),                        # wider than squid pads
    _line("1774422622.000", "    -1"),                          # negative elapsed
    _line("1774422622.000", "   1_0"),                          # int() reads it, pyarrow does not
    _line("1774422622.000", "     1", "10.0.0.1 TCP_MISS/200 512 M-SEARCH * - HIER_NONE/- -"),  # a token method
    _line("1774422622.000", "     1", "10.0.0.1 TCP_MISS/2_00 512 GET http://a.fr/ - HIER_NONE/- -"),
    _line("1774422622.000", "     1", "10.0.0.1 TCP_MISS/200/1 512 GET http://a.fr/ - HIER_NONE/- -"),
    _line("1774422622.000", "     1", "10.0.0.1 TCP_MISS/000 512 CONNECT a.fr:443 - HIER_NONE/- -"),
    _line("1774422622.000", "     1", "10.0.0.1  TCP_MISS/200 512 GET http://a.fr/ - HIER_NONE/- -"),
    _line("1774422622.000", "     1", "10.0.0.1 TCP_MISS/200 512 GET http://a.fr/ - HIER_NONE/- - "),
    " " + _line("1774422622.000", "     1"),
    _line("1774422622.5", "     1"),
    _line("177442262.000", "     1"),
    "1774422622.000",
    "",
]


@pytest.mark.parametrize("block", [64, 120, 700, 1 << 20])
def test_fast_and_row_paths_agree_on_paddings_and_odd_lines(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for lines in (PADDINGS, [*PADDINGS, *ODD_LINES, *PADDINGS], ODD_LINES):
        fast, rows = _both_paths(("\n".join(lines) + "\n").encode(), monkeypatch, block)
        assert fast == rows


def test_every_padding_squid_writes_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _spy(monkeypatch)
    fast, rows = _both_paths(("\n".join(PADDINGS) + "\n").encode(), monkeypatch, 1 << 20)
    assert fast == rows and taken == [True]
    assert [r["duration_ms"] for r in fast[0]] == [0, 7, 42, 999, 12345, 999999, 1234567, 12345678901]


def test_each_odd_line_alone_sends_its_block_to_the_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    plain_ones = {3, 4, 6}  # a token method, a status int() reads, a CONNECT without status: still exact
    for number, odd in enumerate(ODD_LINES[:-1]):
        taken = _spy(monkeypatch)
        fast, rows = _both_paths(("\n".join([*PADDINGS, odd]) + "\n").encode(), monkeypatch, 1 << 20)
        assert fast == rows
        assert taken == [number in plain_ones], odd


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fast_and_row_paths_agree_on_generated_logs(data: st.DataObject) -> None:
    from auditor.testing.strategies import export

    raw, _ = data.draw(export("squid-native", max_rows=40))
    block = data.draw(st.sampled_from([100, 400, 1 << 16]))
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, rows = _both_paths(raw, monkeypatch, block)
    assert fast == rows


@settings(max_examples=300)
@given(st.binary(max_size=200) | st.text(alphabet=st.sampled_from("ab \t\r\n\x00\x7fé"), max_size=60).map(
    lambda t: t.encode()))
def test_plain_lines_are_plain_ascii_without_a_return(block: bytes) -> None:
    """The block test of the fast path keeps the LFs it finds; it accepts what ``plain_ascii`` accepts, CRs aside."""
    import numpy as np

    from auditor.sources.base import plain_ascii

    data = np.frombuffer(block, np.uint8)
    ends = proxy_fast._plain_line_ends(block, data)
    assert (ends is not None) is (b"\r" not in block and plain_ascii(block))
    if ends is not None:
        assert ends.tolist() == [i for i, byte in enumerate(block) if byte == 10]
