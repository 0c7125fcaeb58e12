"""Reports of a dataset kept in a Parquet workspace (large inputs) are the in-memory reports, byte for byte,
and are written without ever reading a whole kind into memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from auditor import api, model
from auditor.i18n import t
from auditor.model import Dataset
from auditor.policy import load_policy
from auditor.report import committee, personal, render, write
from auditor.report.index import ReportIndex
from auditor.report.people import people
from auditor.rules.engine import AuditResult, audit
from auditor.synth.world import World
from tests.conftest import SAMPLES
from tests.unit.test_samples import SAMPLE_DAYS

KEY = b"workspace-key-not-secret-0123456"
EPOCH = "1774000000"
OPTIONS = write.Options(lang="fr", k=2, formats=("html", "md", "json"), key=KEY)


@dataclass
class Both:
    memory: Dataset
    space: Dataset
    memory_result: AuditResult
    space_result: AuditResult


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Both:
    """The sample exports and their declaration (people holding several identifiers), loaded both ways."""
    declaration = tmp_path_factory.mktemp("policy") / "policy.yaml"
    declaration.write_text(yaml.safe_dump(World(days=SAMPLE_DAYS).policy(), allow_unicode=True), encoding="utf-8")
    policy = load_policy(declaration)
    memory = api.load([SAMPLES])
    space = api.load([SAMPLES], api.ReadOptions(large_input_bytes=0))
    assert memory.workspace is None and space.workspace is not None
    return Both(memory, space, audit(memory, policy), audit(space, policy))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_workspace_reports_are_the_in_memory_reports_byte_for_byte(
        both: Both, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    said: dict[str, list[str]] = {"memory": [], "space": []}
    write.write_all(both.memory, both.memory_result, tmp_path / "memory", OPTIONS, progress=said["memory"].append)
    monkeypatch.setattr(write, "PARALLEL_MIN", 2)  # and through forked workers
    write.write_all(both.space, both.space_result, tmp_path / "space", OPTIONS, progress=said["space"].append)
    expected, got = _files(tmp_path / "memory"), _files(tmp_path / "space")
    assert sorted(got) == sorted(expected)
    count = len(people(both.memory, both.memory_result.policy))
    assert sum(name.endswith("report.json") for name in got) == count
    assert [name for name in expected if got[name] != expected[name]] == []
    counted = [t("progress.reports_done", None, done=done, n=count) for done in range(1, count + 1)]
    assert said["memory"] == said["space"] == counted  # every report counted as it is written, one process or two


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_workspace_committee_and_personal_views_match(both: Both, lang: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for k in (2, 5):
        expected = committee.build(both.memory, both.memory_result, KEY, k, lang)
        assert committee.build(both.space, both.space_result, KEY, k, lang) == expected
    everyone = people(both.memory, both.memory_result.policy)
    assert people(both.space, both.space_result.policy) == everyone
    several = [p for p in everyone if len(p.identifiers) > 1]
    assert several, "the declaration gives some people several identifiers"
    for who in [*several[:3], *both.memory.agents()]:  # people with several identifiers, then each identifier
        expected_text = render.render(personal.build(both.memory, both.memory_result, who, lang), "md")
        assert render.render(personal.build(both.space, both.space_result, who, lang), "md") == expected_text


def test_workspace_reports_never_read_a_whole_kind(both: Both, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    space = both.space
    fresh = Dataset.in_workspace(space.workspace, space.rejects, space.provenance, space.skipped)  # type: ignore[arg-type]
    read: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        read.append(args)
        raise AssertionError("a whole kind was read into memory")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(model.ParquetTables, "__getitem__", refuse)
    written = write.write_all(fresh, both.space_result, tmp_path / "out", OPTIONS)
    assert read == []
    assert any(p.name == "committee.html" for p in written)
    assert sum(p.name == "report.json" for p in written) == len(people(space, both.space_result.policy))


def test_one_report_reads_its_persons_rows_without_an_index(both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    """``auditor report --agent`` (no batch index): one filtered read per kind, never the per-agent index of every
    kind (which may split a kind), and the same view as through the batch index."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    space = both.space
    fresh = Dataset.in_workspace(space.workspace, space.rejects, space.provenance, space.skipped)  # type: ignore[arg-type]
    monkeypatch.setattr(model.PartIndex, "_open", lambda *a, **k: pytest.fail("an index was opened"))
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("a whole kind was read into memory"))
    everyone = people(fresh, both.space_result.policy)
    chosen = [*[p for p in everyone if len(p.identifiers) > 1][:2], everyone[0], everyone[-1]]
    alone = [personal.build(fresh, both.space_result, who, "fr") for who in chosen]
    assert fresh._by_agent == {}
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    index = ReportIndex(space, both.space_result)
    assert alone == [personal.build(space, both.space_result, who, "fr", index=index) for who in chosen]


def test_reports_are_written_in_the_order_their_rows_lie_and_returned_in_the_order_chosen(
        both: Both, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    space, result = both.space, both.space_result
    index = ReportIndex(space, result)
    everyone = people(space, result.policy)
    order = index.reading_order(everyone)
    assert sorted(order) == list(range(len(everyone))) and order != list(range(len(everyone)))
    kind = max(space.kinds(), key=space.rows_in)
    firsts = [min((space.reading_place(kind, a) for a in everyone[i].identifiers), default=-1) for i in order]
    assert firsts == sorted(firsts) and len(set(firsts)) > 1
    seen: list[str] = []
    monkeypatch.setattr(write, "write_personal",
                        lambda d, r, person, folder, o, i: seen.append(person.name) or [folder])
    folders = write.write_people(space, result, everyone, tmp_path, OPTIONS, index, workers=1)
    assert seen == [everyone[i].name for i in order]
    assert folders == [[tmp_path / "agents" / write.safe_name(p.name)] for p in everyone]
