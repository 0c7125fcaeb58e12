"""``render.md`` escapes a whole text at once where nothing in it looks like a link, and word by word otherwise: the
result is always the word-by-word definition (``_md_word`` on each word, joined by one space)."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from auditor.report.render import _md_word, md

#: Pieces that make a word look like a link, a Markdown special character, or a blank of another kind.
_PIECES = st.sampled_from(["://", "www.", "WWW.", "@", ".fr", ".gouv", ".com/x", "x.frx", "`", "|", "*", "_", "[",
                           "]", "<", ">", "#", "\\", " ", "\t", "\n", "\u00a0", "\u3000", "\x1f", "é", "a", "1"])
_TEXTS = st.lists(_PIECES | st.text(max_size=4), max_size=12).map("".join)


def _word_by_word(value: Any) -> str:
    return " ".join(_md_word(word) for word in str(value).split())


@given(_TEXTS)
@example("see www.example.fr or mail a@b")
@example("a.fr\u00a0b")
@example("no link | *bold* [x](y)")
def test_md_is_the_word_by_word_escape(text: str) -> None:
    assert md(text) == _word_by_word(text)
    assert md(text) == _word_by_word(text)  # again, from the cache


def test_md_of_values_that_are_not_text() -> None:
    assert md(12) == "12" and md(None) == "None" and md(1.5) == "1.5"
