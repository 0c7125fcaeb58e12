"""Pieces shared by the personal and committee view models: finding views, provenance, the clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from auditor.i18n import t
from auditor.model import Provenance
from auditor.rules.model import Finding
from auditor.rules.render import number as _number

SCHEMA_VERSION = 1


def generated_at() -> str | None:
    """The report's date from SOURCE_DATE_EPOCH only: no wall clock, so outputs are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch or not epoch.strip().isdigit():
        return None
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")


def number(value: float, lang: str) -> str:
    return _number(round(float(value), 1), lang)


def finding_view(finding: Finding, lang: str, *, severity: str, explanation: str) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "tool": finding.tool,
        "kind": finding.kind,
        "title": finding.title[lang],
        "explanation": explanation,
        "severity": severity,
        "severity_text": t(f"severity.{severity}", lang),
        "evidence": finding.evidence,
        "evidence_text": t(f"evidence.{finding.evidence}", lang),
        "threshold_source": finding.threshold_source,
        "ask": finding.ask.get(lang, ""),
        "references": [{"text": r.text, "article": r.article, "url": r.url} for r in finding.references],
    }


def provenance_view(p: Provenance) -> dict[str, Any]:
    return {"file": p.file, "sha256": p.sha256, "tool": p.tool, "kind": p.kind, "rows_in": p.rows_in,
            "rows_parsed": p.rows_parsed, "rows_rejected": p.rows_rejected}
