"""Letters, output files, and byte-identical reruns under SOURCE_DATE_EPOCH (DESIGN §9.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.report.letter import letter, tool_kinds
from auditor.report.write import Options, safe_name, write_all
from tests.report.conftest import Audited


def test_letter_lists_article_15_items_and_fields() -> None:
    product, kinds, _ = tool_kinds("esirius")
    text = letter([(product, kinds[0])], "fr", name="Camille Martin")
    for item in "abcdefgh":
        assert f"- ({item})" in text
    assert "C-579/21" in text and "paragraphe 3" in text and "Camille Martin" in text
    assert "Début" in text


def test_safe_names_stay_inside_and_differ() -> None:
    names = {safe_name(a) for a in ("../../etc", "a/b", "a_b", "", "é")}
    assert len(names) == 5
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_same_inputs_same_bytes(audited: Audited, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    options = Options(lang="fr", k=5, formats=("html", "md", "json"), key=b"\x03" * 32)
    agents = audited.dataset.agents()[:2]
    first = write_all(audited.dataset, audited.result, tmp_path / "one", options, agents)
    second = write_all(audited.dataset, audited.result, tmp_path / "two", options, agents)
    assert [p.relative_to(tmp_path / "one") for p in first] == [p.relative_to(tmp_path / "two") for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert "2023-11-14" in (tmp_path / "one" / "committee.html").read_text(encoding="utf-8")


def test_committee_findings_csv_is_suppressed_and_inert(audited: Audited, tmp_path: Path) -> None:
    import csv

    from auditor.report.write import Options, write_all

    write_all(audited.dataset, audited.result, tmp_path, Options("en", 5, ("json",), b"k" * 32), agents=[])
    raw = (tmp_path / "committee-findings.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(raw.splitlines(), delimiter=";"))
    assert rows[0][:3] == ["Rule", "Tool", "Kind of data"] and len(rows) > 1
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert not any(agent in raw for agent in audited.dataset.agents())
