"""The employer's declaration: defaults, French holidays computed from Easter, validation with lines."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.policy import SECTIONS, Policy, easter, french_holidays, parse_policy
from auditor.rules.yamlsafe import DocumentError


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)),
     (2038, date(2038, 4, 25)), (2000, date(2000, 4, 23)), (1818, date(1818, 3, 22))],
)
def test_easter(year: int, sunday: date) -> None:
    assert easter(year) == sunday


def test_french_holidays_2026() -> None:
    days = french_holidays(2026)
    assert len(days) == 11
    assert days[date(2026, 4, 6)] == "lundi-de-paques"
    assert days[date(2026, 5, 14)] == "ascension"
    assert days[date(2026, 5, 25)] == "lundi-de-pentecote"
    assert date(2026, 4, 3) not in days  # Good Friday only in Alsace-Moselle
    alsace = french_holidays(2026, alsace_moselle=True)
    assert alsace[date(2026, 4, 3)] == "vendredi-saint" and date(2026, 12, 26) in alsace


def test_defaults_are_documented_and_flagged() -> None:
    policy = Policy()
    group = policy.groups["default"]
    assert group.days == (1, 2, 3, 4, 5)
    assert (group.hours[0].start_min, group.hours[0].end_min) == (8 * 60 + 30, 17 * 60 + 30)
    assert (group.breaks[0].start_min, group.breaks[0].end_min) == (12 * 60, 13 * 60 + 30)
    assert policy.timezone == "Europe/Paris"
    assert policy.defaults_used == SECTIONS and not policy.declared


def test_parse_full_declaration() -> None:
    policy = parse_policy(
        """
schema_version: 1
timezone: Europe/Paris
groups:
  default:
    days: [mon, tue, wed, thu, fri]
    hours: [{start: "09:00", end: "17:00"}]
    breaks: [{start: "12:30", end: "13:15"}]
  night: {days: [sat, sun], hours: [{start: "20:00", end: "24:00"}]}
members: {a7: night}
holidays: {calendar: fr-alsace-moselle, add: ["2026-06-01"], remove: ["2026-05-25"]}
delegation: [{agent: a1, weekday: tue, start: "14:00", end: "16:00"}]
retention_days: {positions: 30}
declared_fields: {positions: [agent, time, lat, lon]}
consultation_date: "2025-01-10"
go_live_date: "2025-03-01"
identity:
  - {person: Anne, ids: {kelio: "0042", squid: [amartin, a.martin]}}
""",
        "p.yaml",
    )
    assert policy.declared and "groups" not in policy.defaults_used and "dpia_date" in policy.defaults_used
    assert policy.members == {"a7": "night"}
    assert policy.groups["night"].hours[0].end_min == 24 * 60
    dates = policy.holidays.dates([2026])
    assert date(2026, 6, 1) in dates and date(2026, 5, 25) not in dates and date(2026, 4, 3) in dates
    assert ("Anne", "squid", "a.martin") in policy.identity
    tables = policy.tables([2026])
    assert tables["policy_hours"].num_rows == 5 + 2
    assert tables["policy_delegation"].column("isodow").to_pylist() == [2]
    assert tables["policy_params"].column("hours_declared").to_pylist() == [True]


def test_every_problem_is_reported_with_its_line() -> None:
    text = """groups:
  default: {days: [mon], hours: [{start: "9h", end: "17:00"}]}
retention_days: {positions: -1, nonsense: 3}
delegation: [{agent: a1, start: "10:00", end: "11:00"}]
colour: blue
"""
    with pytest.raises(DocumentError) as caught:
        parse_policy(text, "bad.yaml")
    problems = caught.value.problems
    assert len(problems) >= 4
    lines = {p.line for p in problems}
    assert {2, 3, 4} <= lines
    assert all(p.file == "bad.yaml" for p in problems)


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(DocumentError) as caught:
        parse_policy("dpia_date: '2025-01-01'\ndpia_date: '2026-01-01'\n", "dup.yaml")
    assert caught.value.problems[0].line == 2 and "duplicate" in caught.value.problems[0].message


def test_semantic_checks() -> None:
    with pytest.raises(DocumentError, match="end must be after start"):
        parse_policy('groups: {default: {days: [mon], hours: [{start: "17:00", end: "09:00"}]}}')
    with pytest.raises(DocumentError, match="not declared"):
        parse_policy("members: {a1: nightshift}")
    with pytest.raises(DocumentError, match="unknown time zone"):
        parse_policy("timezone: Mars/Olympus")


def test_empty_document_is_all_defaults_but_declared() -> None:
    policy = parse_policy("", "empty.yaml")
    assert policy.declared and policy.defaults_used == SECTIONS
