"""``render.validate`` (the schema compiled by ``jsonschema-rs``) accepts and rejects exactly what ``jsonschema``
validating the whole document against ``schemas/report.schema.json`` does."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from auditor.report import committee, personal, render
from tests.report.conftest import Audited


def _plain_ok(data: dict[str, Any]) -> bool:
    return not list(render._validator().iter_errors(data))


def _ok(data: dict[str, Any]) -> bool:
    try:
        render.validate(data)
    except jsonschema.ValidationError:
        return False
    return True


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return change


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
    return change


CHANGES = [
    _set(("findings", 0, "severity"), "bogus"),
    _set(("findings", 0, "references"), "none"),
    _delete(("findings", 0, "rule")),
    _set(("findings", 0, "agents_affected"), -1),
    _set(("tools", 0, "findings", 0, "evidence"), "rumour"),
    _set(("tools", 0, "findings", 0, "title"), 3),
    _set(("tools", 0, "findings"), "none"),
    _delete(("tools", 0, "findings")),
    _set(("tools", 0, "grid", 0), [1, 2]),
    _set(("tools", 0, "records"), -3),
    _set(("findings",), {}),
    _delete(("findings",)),
    _set(("tools",), None),
    _set(("tools", 0), "tool"),
    _set(("summary",), ["one"]),
    _set(("surprise",), 1),
    _set(("findings", 0, "severity_text"), "autre texte"),  # still valid
    _set(("tools", 0, "records"), float("nan")),  # not an integer, to either
]


def _personal(audited: Audited) -> dict[str, Any]:
    agent = next(a for a in audited.dataset.agents()
                 if any(tool["findings"] for tool in personal.build(audited.dataset, audited.result, a, "fr")["tools"]))
    data: dict[str, Any] = json.loads(json.dumps(personal.build(audited.dataset, audited.result, agent, "fr"),
                                                 default=str, ensure_ascii=False))
    for tool in data["tools"]:
        tool.pop("charts", None)
    return data


@pytest.mark.parametrize("index", range(len(CHANGES)))
def test_validate_agrees_with_the_whole_document_check(audited: Audited, index: int) -> None:
    good = _personal(audited)
    assert good["findings"] and good["tools"][0]["findings"]
    assert _ok(good) and _plain_ok(good)
    bad = copy.deepcopy(good)
    CHANGES[index](bad)
    assert _ok(bad) == _plain_ok(bad)


def test_validate_checks_committee_views_too(audited: Audited) -> None:
    view = committee.build(audited.dataset, audited.result, b"k" * 32, 2, "en")
    data = json.loads(json.dumps(view, default=str, ensure_ascii=False))
    for tool in data["tools"]:
        tool.pop("charts", None)
    assert _ok(data) and _plain_ok(data)
    data["findings"][0]["pseudonyms"] = ["not a pseudonym"]
    assert not _ok(data) and not _plain_ok(data)
