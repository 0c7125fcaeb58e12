"""Golden reports: the personal and committee reports of a fixed dataset, in French and English, byte for byte.

A change to a template, a message or a figure shows up here as a readable diff. After checking the diff
is intended, refresh with ``AUDITOR_REGEN_GOLDEN=1 uv run pytest tests/report/test_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.report import committee, personal, render
from tests.report.conftest import Audited

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
KEY = b"golden-key-not-secret-0123456789"
EPOCH = "1774000000"  # 2026-03-20T09:46:40Z: the reports' date comes only from SOURCE_DATE_EPOCH


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("AUDITOR_REGEN_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AUDITOR_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_personal_report_matches_golden(audited: Audited, lang: str, fmt: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    agent = audited.dataset.agents()[0]
    _check(f"personal.{lang}.{fmt}", render.render(personal.build(audited.dataset, audited.result, agent, lang), fmt))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_committee_report_matches_golden(audited: Audited, lang: str, fmt: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    view = committee.build(audited.dataset, audited.result, KEY, 3, lang)
    _check(f"committee.{lang}.{fmt}", render.render(view, fmt))
