"""The catalogue holds together: ids, references, metrics and columns, provenance, docs, loader errors."""

from __future__ import annotations

import json
import string
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from auditor.metrics import MetricRunner, metrics
from auditor.rules import docs
from auditor.rules.condition import ConditionError, compile_sql, fields
from auditor.rules.engine import audit_tables, prior_findings_table
from auditor.rules.lexicons import lexicons, normalise
from auditor.rules.loader import catalogue, load_rules, references
from auditor.rules.yamlsafe import DocumentError, load_schema
from auditor.tools import sheet_for, sheets
from tests.rules.tables import tables

#: Threshold provenance as the knowledge base marks it (§6: [L] law, [D] decision, [C] calibration).
#: Where a rule mixes a legal principle with a calibrated cut-off, the principle's source is kept and the
#: rule's threshold_note says which part is calibrated.
KB_PROVENANCE = {
    "GEO-001": "decision", "GEO-002": "law", "GEO-003": "law", "GEO-004": "law", "GEO-005": "decision",
    "GEO-006": "law", "GEO-007": "calibration", "RET-001": "law", "TIM-001": "decision", "TIM-002": "decision",
    "TIM-003": "decision", "PRD-001": "calibration", "PRD-002": "decision", "PRD-003": "decision",
    "WEB-001": "calibration", "WEB-002": "law", "SPC-001": "law", "SPC-002": "decision", "TXT-001": "law",
    "INV-001": "law", "INV-002": "decision", "LNK-001": "calibration", "BIO-001": "law", "EMO-001": "law",
    "VID-001": "decision", "REP-001": "law", "GOV-001": "law", "GOV-002": "law", "SAR-001": "law",
}


@pytest.fixture(scope="module")
def metric_columns() -> dict[str, list[str]]:
    """Column names of every metric, from a run on empty tables."""
    with MetricRunner({}) as runner:
        runner.register("prior_findings", prior_findings_table([]))
        return {name: runner.run(name).schema.names for name in metrics()}


def test_catalogue_covers_the_knowledge_base() -> None:
    rules = catalogue()
    assert len(rules) >= 24
    assert set(KB_PROVENANCE) <= set(rules)


@pytest.mark.parametrize("rule_id", sorted(KB_PROVENANCE))
def test_threshold_source_is_honest(rule_id: str) -> None:
    rule = catalogue()[rule_id]
    assert rule.threshold_source == KB_PROVENANCE[rule_id]


def test_rules_beyond_the_knowledge_base_say_so() -> None:
    for rule in catalogue().values():
        if rule.id not in KB_PROVENANCE:
            assert rule.threshold_note and "new rule" in rule.threshold_note["en"].lower(), rule.id


def test_every_reference_resolves_and_is_used() -> None:
    refs = references()
    cited = {r for rule in catalogue().values() for r in rule.references}
    assert cited <= set(refs)
    for ref in refs.values():
        assert ref.url.startswith(("https://", "http://")) and ref.text and ref.article


def test_every_rule_reads_existing_metric_columns(metric_columns: dict[str, list[str]]) -> None:
    for rule in catalogue().values():
        columns = metric_columns[rule.metric]
        names = set(fields(rule.condition)) | {n for _, c in rule.escalate for n in fields(c)} | set(rule.measures)
        for template in (*rule.explanation.values(),):
            names |= {n for _, n, _, _ in string.Formatter().parse(template) if n}
        extra = {"n_agents", "n_agents_observed", "tool", "kind"}
        missing = names - set(columns) - extra
        assert not missing, f"{rule.id}: {sorted(missing)} not in {rule.metric} columns {columns}"
        compile_sql(rule.condition, columns)


def test_explanations_use_the_same_placeholders_in_both_languages() -> None:
    for rule in catalogue().values():
        fr, en = ({n for _, n, _, _ in string.Formatter().parse(rule.explanation[lang]) if n} for lang in ("fr", "en"))
        assert fr == en, rule.id


def test_capabilities_named_by_rules_exist() -> None:
    known = {c.id for s in sheets().values() for c in s.capabilities}
    for rule in catalogue().values():
        assert set(rule.capabilities) <= known, rule.id


def test_tool_sheets_match_names_and_cite_sources() -> None:
    assert sheet_for("Kelio export") is not None and sheet_for("Kelio export").id == "kelio"  # type: ignore[union-attr]
    assert sheet_for("squid-native").id == "web_proxy"  # type: ignore[union-attr]
    assert sheet_for("unknown-tool") is None
    for sheet in sheets().values():
        assert sheet.sources and sheet.ask["fr"] and sheet.ask["en"]


def test_lexicons_have_sources_and_match_whole_words() -> None:
    assert {"health", "union", "religion", "job_search", "evaluative"} <= set(lexicons())
    for lexicon in lexicons().values():
        assert lexicon.sources and lexicon.terms
    assert normalise("Arrêt  MALADIE — Œuvre") == "arret maladie oeuvre"


def test_metric_headers_define_every_metric() -> None:
    for spec in metrics().values():
        assert len(spec.definition["fr"]) > 40 and len(spec.definition["en"]) > 40, spec.name
        assert spec.grain, spec.name


def test_loader_collects_every_error_with_file_and_line(tmp_path: Path) -> None:
    good = (catalogue()["GEO-006"].path and Path(catalogue()["GEO-006"].path)).read_text(encoding="utf-8")
    (tmp_path / "GEO-006.yaml").write_text(good.replace("severity: low", "severity: low\nseverity: high"))
    (tmp_path / "ABC-001.yaml").write_text(good.replace("id: GEO-006", "id: ABC-001").replace(
        "references: [cnil-2015-165", "references: [no-such-ref"))
    (tmp_path / "XYZ-001.yaml").write_text(good.replace("id: GEO-006", "id: XYZ-001").replace(
        "metric: tracking_controls", "metric: nope").replace("status: test", "status: bogus"))
    (tmp_path / "BAD-001.yaml").write_text("id: [unclosed\n")
    with pytest.raises(DocumentError) as caught:
        load_rules(tmp_path)
    problems = caught.value.problems
    files = {Path(p.file).name for p in problems}
    assert files == {"GEO-006.yaml", "ABC-001.yaml", "XYZ-001.yaml", "BAD-001.yaml"}
    assert all(p.line for p in problems)
    assert any("duplicate key 'severity'" in p.message for p in problems)
    assert any("no-such-ref" in p.message for p in problems)
    assert any("status" in p.message for p in problems)


def test_conditions_never_paste_values_or_unknown_columns() -> None:
    sql, params = compile_sql({"field": "a", "op": "eq", "value": "x'); DROP TABLE t; --"}, ["a"])
    assert "DROP" not in sql and params == ["x'); DROP TABLE t; --"]
    with pytest.raises(ConditionError):
        compile_sql({"field": "b", "op": "eq", "value": 1}, ["a"])
    with pytest.raises(ConditionError):
        compile_sql({"field": "a", "op": "gt", "other_field": "zz"}, ["a"])


def test_docs_are_up_to_date() -> None:
    assert docs.DOC_PATH.read_text(encoding="utf-8") == docs.generate(), (
        "docs/rules.md is stale: run `uv run python -m auditor.rules.docs`"
    )


def test_findings_json_validates_against_its_schema() -> None:
    data = tables({
        "positions": [{"agent": "a1", "time": "2026-03-02 22:00:00", "lat": 48.853412, "lon": 2.35, "speed_mps": 2.0}],
        "web_requests": [{"agent": "a1", "time": "2026-03-02 10:00:00", "url": "https://x.fr/a?b=1", "domain": "x.fr"}],
    })
    result = audit_tables(data)
    document = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    jsonschema.validate(document, load_schema("findings.schema.json"))
    assert document["findings"] and document["policy"]["defaults_used"]
    assert result.reaches("high") and result.reaches("info")


def test_fail_on_threshold() -> None:
    quiet = audit_tables(tables({"positions": [{"agent": "a1", "time": "2026-03-02 10:00:00", "lat": 48.85,
                                                  "lon": 2.35}]}), rules={"GEO-006": catalogue()["GEO-006"]})
    assert not quiet.findings and not quiet.reaches("info")


def test_cli_rules_list_and_show() -> None:
    from auditor.cli.main import _load_commands, cli

    _load_commands()
    runner = CliRunner()
    listed = runner.invoke(cli, ["rules", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    ids = [r["id"] for r in json.loads(listed.output)]
    assert ids == sorted(catalogue())
    shown = runner.invoke(cli, ["rules", "show", "web-001", "--format", "json"])
    assert json.loads(shown.output)["references"][0]["id"] == "cnil-internet"
    table = runner.invoke(cli, ["--lang", "en", "rules", "show", "GEO-001"])
    assert "GPS sampling rate" in table.output and "eur-lex" in table.output
    missing = runner.invoke(cli, ["rules", "show", "ZZZ-999"])
    assert missing.exit_code != 0
    schema = load_schema("rule.schema.json")
    for document in json.loads(listed.output):
        plain = {k: v for k, v in document.items() if k not in ("references", "max_severity")}
        plain["references"] = [r["id"] for r in document["references"]]
        jsonschema.validate(plain, schema)
