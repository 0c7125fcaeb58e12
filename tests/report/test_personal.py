"""Personal reports: only the agent's own rows and figures (DESIGN §9.2), valid JSON, safe HTML."""

from __future__ import annotations

import json
import re

import pyarrow.compute as pc
import pytest

from auditor.report import personal, render
from tests.report.conftest import Audited


def _other_values(audited: Audited, agent: str) -> set[str]:
    """Identifiers and distinctive values (devices, tickets, URLs) that belong to other agents only."""
    own: set[str] = set()
    theirs: set[str] = set()
    for table in audited.dataset.tables.values():
        for column in ("agent", "device", "ticket", "url", "client_ip"):
            if column not in table.column_names:
                continue
            mine = pc.equal(table.column("agent"), agent)
            own.update(v for v in table.filter(mine).column(column).to_pylist() if v)
            theirs.update(v for v in table.filter(pc.invert(mine)).column(column).to_pylist() if v)
    return {v for v in theirs - own if len(v) >= 4}


def test_a_personal_report_shows_nothing_of_another_agent(audited: Audited) -> None:
    agents = audited.dataset.agents()
    assert len(agents) >= 4
    for agent in agents:
        view = personal.build(audited.dataset, audited.result, agent, "fr")
        forbidden = _other_values(audited, agent)
        assert forbidden
        for fmt in render.FORMATS:
            text = render.render(view, fmt)
            assert agent in text
            leaked = sorted(v for v in forbidden if v in text)
            assert not leaked, (agent, fmt, leaked[:5])


def test_personal_json_is_valid_and_complete(audited: Audited) -> None:
    agent = audited.dataset.agents()[0]
    data = json.loads(render.render(personal.build(audited.dataset, audited.result, agent, "en"), "json"))
    assert data["type"] == "personal" and data["lang"] == "en" and len(data["summary"]) == 5
    kinds = {tool["kind"] for tool in data["tools"]}
    assert {"appointments", "web_requests"} <= kinds
    for tool in data["tools"]:
        assert tool["fields"] and all(f["description"] for f in tool["fields"])
        assert sum(map(sum, tool["grid"])) == tool["records"] or tool["kind"] == "queue_tickets"
    files = {p["file"] for p in data["provenance"]}
    assert files <= {p.name for p in audited.files}


def test_personal_html_is_self_contained_and_inert(audited: Audited) -> None:
    agent = next(a for a in audited.dataset.agents() if personal.agent_tables(audited.dataset, a).get("positions"))
    view = personal.build(audited.dataset, audited.result, agent, "fr")
    html = render.render(view, "html")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    lowered = html.lower()
    assert "<script" not in lowered and " src=" not in lowered and "<link" not in lowered and "@import" not in lowered
    assert html.count('role="img"') >= 3 and "<title>" in html
    references = {r["url"] for f in view["findings"] for r in f["references"]}
    hrefs = [h for h in re.findall(r'href="([^"]*)"', html) if not h.startswith("#")]  # '#…': the contents
    assert hrefs and set(hrefs) <= references  # proxy URLs are text; the only links are legal references


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "javascript:alert(1)"])
def test_markup_in_data_is_escaped(audited: Audited, hostile: str) -> None:
    import pyarrow as pa

    table = audited.dataset.tables["web_requests"]
    agent = audited.dataset.agents()[0]
    mine = table.filter(pc.equal(table.column("agent"), agent)).slice(0, 1)
    url = pa.array([f"http://evil.example/{hostile}"], pa.string())
    poisoned = mine.set_column(mine.schema.get_field_index("url"), "url", url)
    from dataclasses import replace

    dataset = replace(audited.dataset, tables={"web_requests": poisoned})
    html = render.render(personal.build(dataset, audited.result, agent, "fr"), "html")
    assert "<script>alert" not in html and 'href="http://evil' not in html
    assert "evil.example" in html


def test_markdown_is_not_html_escaped_but_inert(audited: Audited) -> None:
    agent = audited.dataset.agents()[0]
    text = render.render(personal.build(audited.dataset, audited.result, agent, "fr"), "md")
    assert "&#39;" not in text and "&amp;" not in text
    assert "](http" not in text  # no Markdown link built from data
