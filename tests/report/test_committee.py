"""Committee report: pseudonyms only, every group smaller than k suppressed (DESIGN §9.3)."""

from __future__ import annotations

import json

from auditor.privacy import pseudonym
from auditor.report import committee, render
from tests.report.conftest import Audited

KEY = b"\x01" * 32


def test_no_raw_identifier_in_any_format(audited: Audited) -> None:
    view = committee.build(audited.dataset, audited.result, KEY, 5, "fr")
    for fmt in render.FORMATS:
        text = render.render(view, fmt)
        for agent in audited.dataset.agents():
            assert agent not in text, (agent, fmt)


def test_groups_smaller_than_k_are_suppressed(audited: Audited) -> None:
    data = json.loads(render.render(committee.build(audited.dataset, audited.result, KEY, 5, "en"), "json"))
    positions = next(tool for tool in data["tools"] if tool["kind"] == "positions")
    assert positions["agents"] == "fewer than 5" and positions["records"] == "fewer than 5"
    for tool in data["tools"]:
        for item in tool["per_agent"]:
            assert item["agents"] == "fewer than 5" or item["agents"] >= 5
    for finding in data["findings"]:
        affected = finding["agents_affected"]
        assert isinstance(affected, str) or affected == 0 or affected >= 5
        if isinstance(affected, str):
            assert finding["pseudonyms"] == []
    assert data["questions"]


def test_pseudonyms_are_keyed(audited: Audited) -> None:
    data = committee.build(audited.dataset, audited.result, KEY, 5, "fr")
    shown = {p for f in data["findings"] for p in f["pseudonyms"]}
    assert shown and shown <= {pseudonym(a, KEY) for a in audited.dataset.agents()}
    other = committee.build(audited.dataset, audited.result, b"\x02" * 32, 5, "fr")
    assert not shown & {p for f in other["findings"] for p in f["pseudonyms"]}


def test_k_larger_than_everyone_hides_every_count(audited: Audited) -> None:
    data = committee.build(audited.dataset, audited.result, KEY, 50, "fr")
    assert all(isinstance(tool["agents"], str) for tool in data["tools"])
    assert all(not f["pseudonyms"] for f in data["findings"])


def test_raw_identifiers_only_on_explicit_request(audited: Audited) -> None:
    from auditor.report import committee, render

    plain = render.render(committee.build(audited.dataset, audited.result, b"k" * 32, 3, "fr"), "json")
    asked = render.render(committee.build(audited.dataset, audited.result, b"k" * 32, 3, "fr",
                                          raw_identifiers=True), "json")
    agents = audited.dataset.agents()
    assert not any(f'"{a}"' in plain for a in agents)
    assert any(f'"{a}"' in asked for a in agents)
