"""docs/parser-guide.md runs as written: its parser registers, and its property tests pass."""

from __future__ import annotations

import re
from typing import Any

import pytest

from auditor.sources import registry
from tests.conftest import ROOT


def _code_blocks() -> list[str]:
    text = (ROOT / "docs" / "parser-guide.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_guide_parser_and_its_tests_run(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.parsers()  # load the real parsers first, then work on a copy of the registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    blocks = _code_blocks()
    assert len(blocks) == 2
    namespace: dict[str, Any] = {"__name__": "parser_guide_example"}
    exec(compile(blocks[0], "docs/parser-guide.md#parser", "exec"), namespace)
    assert registry.get("tempo-punch").kind == "clock_events"
    exec(compile(blocks[1], "docs/parser-guide.md#tests", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()
