"""check-response: what the reply lacks against the capability sheets and article 15; the follow-up."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from auditor import api
from auditor.cli.main import main
from auditor.policy import load_policy
from auditor.report import response

SAMPLE = Path(__file__).resolve().parents[2] / "sample_exports" / "esirius-agenda-csv.csv"


def test_missing_kind_field_and_items_are_listed() -> None:
    dataset = api.load([SAMPLE])
    result = response.review(dataset, (), None, ["a", "c", "copy"], date(2026, 9, 1), date(2026, 10, 5), "en")
    texts = " | ".join(g.text for g in result.gaps)
    assert "Queue tickets" in texts or "queue" in texts.lower()  # the sheet lists queue tickets; none came back
    assert "free-text comment" in texts  # the sample has no comment column filled
    assert result.items_missing == ["b", "d", "e", "f", "g", "h", "logs"]
    assert result.late and result.deadline == date(2026, 10, 2)
    letter = response.reminder(result, "en", date(2026, 9, 1))
    assert "(b) the categories" in letter and "C-579/21" in letter and "expired on 2 Oct 2026" in letter


def test_a_declaration_answers_what_it_declares(tmp_path: Path) -> None:
    declaration = tmp_path / "policy.yaml"
    declaration.write_text(yaml.safe_dump({"purposes": ["accueil du public"], "retention_days": {"appointments": 365}}),
                           encoding="utf-8")
    result = response.review(api.load([SAMPLE]), (), load_policy(declaration), [], None, date(2026, 10, 5), "fr")
    assert "a" not in result.items_missing and "d" not in result.items_missing and "c" in result.items_missing
    assert not result.late and result.deadline is None


@pytest.fixture(autouse=True)
def _french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_LANG", "fr")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out + err


def test_cli_writes_the_reminder_and_the_complaint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "suite"
    code, output = run(["check-response", str(SAMPLE), "--sent", "2026-09-01", "--today", "2026-09-15",
                        "--answered", "a,b", "--name", "Benoît Dubois", "--out", str(out)], capsys)
    assert code == 0, output
    reminder = (out / "reminder.md").read_text(encoding="utf-8")
    assert "Benoît Dubois" in reminder and "(c) les destinataires" in reminder and "a expiré" not in reminder
    assert "cnil.fr" in (out / "cnil-complaint.md").read_text(encoding="utf-8")


def test_cli_refuses_unknown_items_and_unknown_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(["check-response", str(SAMPLE), "--answered", "z", "--out", str(tmp_path)], capsys)
    assert code == 2 and "élément inconnu : z" in output
    gpx = Path(__file__).resolve().parents[2] / "sample_exports" / "gpx"
    code, output = run(["check-response", str(gpx), "--out", str(tmp_path)], capsys)
    assert code == 2 and "--tool" in output


def test_a_workspace_reply_is_reviewed_without_reading_a_kind_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large reply kept in a Parquet workspace gets the same review from per-tool counts."""
    import pyarrow.parquet as pq

    from auditor import model

    samples = sorted(SAMPLE.parent.glob("*.csv"))
    memory = api.load(samples)
    space = api.load(samples, api.ReadOptions(large_input_bytes=0))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a whole kind was read into memory")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(model.ParquetTables, "__getitem__", refuse)
    named = ("qmatic", "gps")
    expected = response.review(memory, named, None, ["a"], date(2026, 9, 1), date(2026, 9, 5), "en")
    got = response.review(space, named, None, ["a"], date(2026, 9, 1), date(2026, 9, 5), "en")
    assert got == expected and expected.received and expected.gaps
