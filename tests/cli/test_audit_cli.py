"""`auditor audit`, `auditor report`, `auditor letter`: files written, exit codes, formats."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from auditor.cli.main import main
from auditor.report.render import report_schema
from tests.report.conftest import Audited, make_audited


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return make_audited(tmp_path_factory.mktemp("exports"))


@pytest.fixture(autouse=True)
def _french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_LANG", "fr")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_audit_writes_everything_and_fails_on(audited: Audited, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = ["audit", *map(str, audited.files), "--out", str(out), "--format", "json,md", "--fail-on", "high"]
    code, _, err = run(args, capsys)
    assert code == 1, err
    assert (out / "committee.json").is_file() and (out / "committee.md").is_file()
    assert not (out / "committee.html").exists()
    assert json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"]
    assert stat.S_IMODE((out / "pseudonym.key").stat().st_mode) == 0o600
    folders = sorted((out / "agents").iterdir())
    assert len(folders) == len(audited.dataset.agents())
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {"report.json", "report.md", "letter.md"}
        jsonschema.validate(json.loads((folder / "report.json").read_text(encoding="utf-8")), report_schema())


def test_audit_one_agent_in_english_without_fail_on(audited: Audited, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    agent = audited.dataset.agents()[0]
    out = tmp_path / "out"
    code, _, _ = run(["--lang", "en", "audit", str(audited.files[0]), "--out", str(out), "--agent", agent,
                      "--format", "html"], capsys)
    assert code == 0
    (folder,) = (out / "agents").iterdir()
    assert "What your work tools keep about you" in (folder / "report.html").read_text(encoding="utf-8")


def test_report_unknown_agent_is_a_usage_error(audited: Audited, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["report", str(audited.files[0]), "--agent", "nobody", "--out", str(tmp_path / "r.md")], capsys)
    assert code == 2 and "nobody" in err


def test_report_format_from_extension(audited: Audited, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = audited.dataset.agents()[0]
    code, _, _ = run(["report", str(audited.files[0]), "--agent", agent, "--out", str(tmp_path / "r.md")], capsys)
    assert code == 0
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# ")


def test_letter_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["letter", "--tool", "qmatic", "--name", "C. Martin"], capsys)
    assert code == 0 and "article 15" in out and "C. Martin" in out
    code, _, err = run(["letter", "--tool", "inconnu"], capsys)
    assert code == 2 and "--kind" in err
    code, _, _ = run(["letter", "--tool", "inconnu", "--kind", "positions", "--out", str(tmp_path / "l.md")], capsys)
    assert code == 0 and "Latitude" in (tmp_path / "l.md").read_text(encoding="utf-8")
