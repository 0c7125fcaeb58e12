"""Every rule's positive and negative cases (tests/rules/cases/<ID>.yaml), run through the real engine."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.policy import parse_policy
from auditor.rules.engine import audit_tables
from auditor.rules.loader import catalogue
from tests.rules.tables import local, tables

CASES = Path(__file__).parent / "cases"
STEP = re.compile(r"^(\d+)(s|min|h|d)$")
UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


def expand(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with ``_repeat: {n, step}`` become n rows, every time field moved by i × step."""
    out = []
    for row in rows:
        repeat = row.pop("_repeat", None)
        if repeat is None:
            out.append(row)
            continue
        number, unit = STEP.match(repeat["step"]).groups()  # type: ignore[union-attr]
        step = timedelta(**{UNITS[unit]: int(number)})
        for i in range(repeat["n"]):
            out.append({k: local(v) + i * step if _is_time(v) else v for k, v in row.items()})
    return out


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", value) is not None


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            params.append(pytest.param(document["rule"], case, id=f"{document['rule']}: {case['name']}"))
    return params


def _matches(finding: dict[str, Any], expected: dict[str, Any]) -> bool:
    return all(sorted(finding[k]) == sorted(v) if isinstance(v, list) else finding[k] == v
               for k, v in expected.items())


@pytest.mark.parametrize(("rule_id", "case"), load_cases())
def test_case(rule_id: str, case: dict[str, Any]) -> None:
    rules = catalogue()
    selected = rules if case.get("rules") == "all" else {rule_id: rules[rule_id]}
    policy = parse_policy(yaml.safe_dump(case["policy"]), "case-policy.yaml") if "policy" in case else None
    spec = {kind: expand([dict(r) for r in rows]) for kind, rows in case["tables"].items()}
    result = audit_tables(tables(spec, tool=case.get("tool", "test-tool")), policy, rules=selected)
    found = [f.to_dict() for f in result.findings if f.rule == rule_id]
    expected = case["expect"]
    summary = [(f["severity"], f["evidence"], f["tool"], f["kind"], f["agents"]) for f in found]
    assert len(found) == len(expected), summary
    for item in expected:
        assert any(_matches(f, item) for f in found), (item, found)


def test_every_rule_has_a_positive_and_a_negative_case() -> None:
    covered: dict[str, set[bool]] = {}
    for param in load_cases():
        rule_id, case = param.values
        covered.setdefault(rule_id, set()).add(bool(case["expect"]))
    missing = {r for r in catalogue() if covered.get(r) != {True, False}}
    assert not missing, f"rules without both a positive and a negative case: {sorted(missing)}"


def test_local_times_are_paris() -> None:
    assert local("2026-07-01 12:00").utcoffset() == timedelta(hours=2)
    assert isinstance(local("2026-01-01 12:00"), datetime)
