"""The command line: exit codes, JSON output, stdout for data and stderr for messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli.main import main


@pytest.fixture(autouse=True)
def _french_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_LANG", "fr")  # restored after each test, even when --lang changes it


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_schemas_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["schemas", "list", "--format", "json"], capsys)
    assert code == 0
    kinds = [k["kind"] for k in json.loads(out)["kinds"]]
    assert "positions" in kinds and len(kinds) == 8


def test_schemas_show_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["schemas", "show", "nope"], capsys)
    assert code == 2
    assert out == ""
    assert "nope" in err and "auditor schemas list" in err


def test_bad_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["detect", "--no-such-option"], capsys)
    assert code == 2


def test_detect_missing_file_names_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["detect", str(tmp_path / "absent.csv")], capsys)
    assert code == 2
    assert "absent.csv" in err


def test_detect_unknown_format_is_reported_in_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    odd = tmp_path / "notes.xyz"
    odd.write_bytes(b"\x00\x01\x02 nothing anyone exports")
    code, out, _ = run(["detect", str(odd), "--format", "json"], capsys)
    assert code == 2
    assert json.loads(out)["files"][0]["error"] == "format-unknown"


def test_english_messages(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["--lang", "en", "detect", str(tmp_path / "absent.csv")], capsys)
    assert code == 2
    assert "file not found" in err


def test_parsers_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["parsers", "list", "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["schema_version"] == 1
