"""Detection: the best sniff wins, file names help a little, close scores are reported as ambiguity."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from auditor.errors import InputError
from auditor.sources import registry
from auditor.sources.base import Head, ParseContext, Parser, Source


class _Fake(Parser):
    kind = "activity_events"
    tool = "fake"
    confidence = 0.0
    word = b""

    def sniff(self, head: Head) -> float:
        return self.confidence if self.word in head.raw else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        yield from ()


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Parser]:
    table: dict[str, Parser] = {}
    for name, confidence, word, patterns in (("fake-a", 0.9, b"alpha", ("*.aaa",)), ("fake-b", 0.85, b"alpha", ()),
                                             ("fake-c", 0.6, b"gamma", ())):
        parser = type(name, (_Fake,), {"name": name, "confidence": confidence, "word": word,
                                       "patterns": patterns})()
        table[name] = parser
    monkeypatch.setattr(registry, "_REGISTRY", table)
    monkeypatch.setattr(registry, "_loaded", True)
    return table


def test_best_sniff_wins_and_ties_are_reported(fakes: dict[str, Parser]) -> None:
    found = registry.detect(Source.from_bytes(b"alpha beta", "x.txt"))
    assert found.parser == "fake-a"
    assert found.ambiguous
    assert [c[0] for c in found.candidates] == ["fake-a", "fake-b"]


def test_a_matching_file_name_adds_a_bonus(fakes: dict[str, Parser]) -> None:
    assert registry.detect(Source.from_bytes(b"alpha", "x.aaa")).confidence == pytest.approx(0.95)


def test_unknown_and_empty_files_are_input_errors(fakes: dict[str, Parser]) -> None:
    with pytest.raises(InputError) as unknown:
        registry.detect(Source.from_bytes(b"nothing here", "x.txt"))
    assert unknown.value.code == "format-unknown"
    with pytest.raises(InputError) as empty:
        registry.detect(Source.from_bytes(b"", "x.txt"))
    assert empty.value.code == "file-empty"


def test_forcing_an_unknown_parser_is_an_input_error(fakes: dict[str, Parser]) -> None:
    with pytest.raises(InputError) as error:
        registry.detect(Source.from_bytes(b"gamma", "x.txt"), forced="nope")
    assert error.value.code == "format-forced-unknown"


def test_registered_parsers_have_unique_kebab_names_and_bilingual_titles() -> None:
    import re

    for parser in registry.parsers():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", parser.name)
        assert parser.title["fr"] and parser.title["en"], parser.name
