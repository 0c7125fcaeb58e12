"""Evaluate the rule catalogue against metric rows and produce findings (DESIGN §6).

``audit(dataset, policy)`` runs every metric (DuckDB), evaluates each rule's condition on its metric's
rows, groups matching rows by tool (and kind) into findings, then adds the findings that depend on
other findings (GOV-002) and the ``capability`` findings (what a product can record that the export
does not show). Nothing here renders reports or writes files.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from auditor.i18n import t
from auditor.metrics.runner import MetricRunner
from auditor.model import Dataset
from auditor.policy import Policy, default_policy
from auditor.rules.condition import compile_sql
from auditor.rules.loader import catalogue, references
from auditor.rules.model import AgentValues, Finding, Rule, severity_rank
from auditor.rules.render import render

SCHEMA_VERSION = 1
IDENTITY_COLUMNS = ("kind", "tool", "agent")

#: Policy sections each metric relies on: a finding says which of them were defaults.
METRIC_POLICY: dict[str, tuple[str, ...]] = {
    "time_windows": ("timezone", "groups", "holidays", "delegation"),
    "gaps": ("timezone", "groups", "holidays"),
    "linkage": ("timezone", "groups", "holidays", "identity"),
    "badge_latency": ("timezone", "identity"),
    "gps_time_source": ("groups", "identity"),
    "retention": ("retention_days",),
    "field_inventory": ("declared_fields",),
    "governance": ("go_live_date", "consultation_date", "dpia_date"),
    "dpia": ("dpia_date",),
    "sampling_interval": ("timezone",),
    "activity_counts": ("timezone",),
    "home_inference": ("timezone",),
}


@dataclass
class AuditResult:
    """Metric tables and findings of one audit, plus what the policy left to defaults."""

    metrics: dict[str, pa.Table]
    findings: list[Finding]
    policy: Policy
    rules: dict[str, Rule] = field(default_factory=dict)

    def reaches(self, severity: str) -> bool:
        """True when a finding is at or above ``severity`` (``--fail-on``)."""
        return any(severity_rank(f.severity) >= severity_rank(severity) for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The findings.json document (validated by schemas/findings.schema.json)."""
        by_severity: dict[str, int] = {}
        for f in self.findings:
            by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
        return {
            "schema_version": SCHEMA_VERSION,
            "policy": {
                "declared": self.policy.declared,
                "source": self.policy.source,
                "defaults_used": list(self.policy.defaults_used),
            },
            "rules_evaluated": sorted(self.rules),
            "summary": {"findings": len(self.findings), "by_severity": by_severity},
            "metrics": {
                name: {"rows": t.num_rows, "columns": t.schema.names} for name, t in sorted(self.metrics.items())
            },
            "findings": [f.to_dict() for f in self.findings],
        }


def audit(dataset: Dataset, policy: Policy | None = None, *, rules: Mapping[str, Rule] | None = None,
          progress: Callable[[str], None] | None = None) -> AuditResult:
    """Metrics and findings for a loaded dataset; ``progress(text)`` names each metric as it starts.

    A dataset kept in a Parquet workspace is audited on its files (DuckDB, out of core).
    """
    if dataset.workspace is not None:
        return audit_tables({}, policy, rules=rules, progress=progress, parquet_dir=dataset.workspace / "tables")
    return audit_tables(dataset.tables, policy, rules=rules, progress=progress)


def audit_tables(
    tables: Mapping[str, pa.Table], policy: Policy | None = None, *, rules: Mapping[str, Rule] | None = None,
    progress: Callable[[str], None] | None = None, parquet_dir: Path | None = None,
) -> AuditResult:
    policy = policy or default_policy()
    rules = dict(rules if rules is not None else catalogue())
    from auditor.metrics.catalog import metrics

    needed = {r.metric for r in rules.values()} | {"retention"}
    if any("person" in metrics()[m].grain for m in needed if m in metrics()):
        needed.add("linkage")  # persons observed, for findings across sources
    with MetricRunner(tables, policy, progress=progress, parquet_dir=parquet_dir) as runner:
        if any(r.capabilities for r in rules.values()) and runner.has_capabilities:
            needed.add("capability_gaps")
        results = runner.run_all(sorted(needed))
        if progress:
            progress(t("progress.rules"))
        population = _population(results)
        findings: list[Finding] = []
        later = [r for r in rules.values() if r.metric not in results]
        for rule in rules.values():
            if rule.metric in results:
                findings += evaluate(rule, results[rule.metric], policy, population, runner.con)
        runner.register("prior_findings", prior_findings_table(findings))
        for rule in later:
            findings += evaluate(rule, runner.run(rule.metric), policy, population, runner.con)
        results = dict(runner.results)
    findings += capability_findings(rules, results.get("capability_gaps"), findings, policy)
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.rule, f.tool, f.kind or ""))
    return AuditResult(metrics=results, findings=findings, policy=policy, rules=rules)


def evaluate(
    rule: Rule,
    table: pa.Table,
    policy: Policy,
    population: Mapping[tuple[str | None, str], int],
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[Finding]:
    """The findings of one rule over one metric's rows (one per tool and kind)."""
    from auditor.metrics.catalog import metrics

    rows = _matching_rows(rule, table, con)
    by_kind = "kind" in metrics()[rule.metric].grain
    groups: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row.get("kind") if by_kind else None, str(row.get("tool", "*"))), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] or "", item[0][1]))
    return [_finding(rule, kind or _single(rule.kinds), tool, group, policy, population)
            for (kind, tool), group in ordered]


def _matching_rows(rule: Rule, table: pa.Table, con: duckdb.DuckDBPyConnection | None) -> list[dict[str, Any]]:
    columns = table.schema.names
    params: list[Any] = []
    cases = []
    for severity, condition in rule.escalate:
        expression, values = compile_sql(condition, columns)
        cases.append(f"WHEN {expression} THEN ?")
        params += [*values, severity]
    params.append(rule.severity)
    where, values = compile_sql(rule.condition, columns)
    params += values
    if "kind" in columns:
        where += " AND (kind IS NULL OR list_contains(?, kind))"
        params.append(list(rule.kinds))
    case = f"CASE {' '.join(cases)} ELSE ? END" if cases else "?"
    own = con is None
    connection = duckdb.connect(":memory:") if con is None else con
    try:
        connection.register("metric_rows", table)
        # ORDER BY ALL: metric rows come in whatever order DuckDB's threads finish; findings must not
        query = f"SELECT *, {case} AS __severity FROM metric_rows WHERE coalesce({where}, FALSE) ORDER BY ALL"
        result: list[dict[str, Any]] = connection.sql(query, params=params).to_arrow_table().to_pylist()
        connection.unregister("metric_rows")
    finally:
        if own:
            connection.close()
    return result


def _finding(
    rule: Rule,
    kind: str | None,
    tool: str,
    rows: list[dict[str, Any]],
    policy: Policy,
    population: Mapping[tuple[str | None, str], int],
) -> Finding:
    measures = _measures(rule, rows[0].keys())
    per_agent = [
        AgentValues(
            agent=str(row["agent"]),
            severity=row["__severity"],
            values={m: _plain(row.get(m)) for m in measures},
        )
        for row in rows
        if row.get("agent") is not None
    ]
    severity = max((row["__severity"] for row in rows), key=severity_rank)
    summary = {m: _summarise([row.get(m) for row in rows]) for m in measures}
    agents = sorted({a.agent for a in per_agent})
    observed = population.get((kind, tool)) or population.get((None, tool)) or _row_population(rows)
    counts = {
        "agents_affected": len(agents) if per_agent else _row_population(rows),
        "agents_observed": observed,
        "rows_matched": len(rows),
    }
    if any("n_records" in row for row in rows):
        counts["records"] = int(sum(row.get("n_records") or 0 for row in rows))
    context = {**summary, "n_agents": counts["agents_affected"], "n_agents_observed": observed, "tool": tool,
               "kind": kind or ""}
    return Finding(
        rule=rule.id,
        title=dict(rule.title),
        explanation={lang: render(template, context, lang) for lang, template in rule.explanation.items()},
        ask=dict(rule.ask),
        severity=severity,
        evidence=rule.evidence,
        threshold_source=rule.threshold_source,
        references=[references()[r] for r in rule.references],
        metric=rule.metric,
        tool=tool,
        kind=kind,
        agents=agents,
        per_agent=per_agent,
        summary=summary,
        counts=counts,
        policy_defaults=[s for s in METRIC_POLICY.get(rule.metric, ()) if s in policy.defaults_used],
    )


def _single(kinds: tuple[str, ...]) -> str | None:
    return kinds[0] if len(kinds) == 1 else None


def _measures(rule: Rule, columns: Any) -> list[str]:
    from auditor.rules.condition import fields

    available = [c for c in columns if c not in IDENTITY_COLUMNS and not c.startswith("__")]
    if rule.measures:
        return [m for m in rule.measures if m in available]
    wanted: list[str] = []
    conditions = [rule.condition, *(c for _, c in rule.escalate)]
    names = [n for c in conditions for n in fields(c)]
    for template in rule.explanation.values():
        names += [name for _, name, _, _ in string.Formatter().parse(template) if name]
    for name in names:
        if name in available and name not in wanted:
            wanted.append(name)
    return wanted


def _row_population(rows: list[dict[str, Any]]) -> int:
    return int(max((row.get("n_agents") or 0 for row in rows), default=0))


#: Values ``_plain`` gives back as they are, found by their exact type (most of a finding's: 60 k at 10 M fixes).
_AS_THEY_ARE = frozenset({int, str, bool, type(None)})


def _plain(value: Any) -> Any:
    """A JSON-safe value (dates as ISO text, NaN as null)."""
    if type(value) in _AS_THEY_ARE:
        return value
    if type(value) is float:
        return None if math.isnan(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _summarise(values: list[Any]) -> Any:
    """One value for many rows: the median of numbers, any() of booleans, the union of texts and lists."""
    present = [_plain(v) for v in values if v is not None]
    present = [v for v in present if v is not None]
    if not present:
        return None
    if all(isinstance(v, bool) for v in present):
        return any(present)
    if all(isinstance(v, int | float) for v in present):
        ordered = sorted(present)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    items: set[str] = set()
    for v in present:
        items.update(str(x) for x in v) if isinstance(v, list) else items.add(str(v))
    return sorted(items)


def _population(results: Mapping[str, pa.Table]) -> dict[tuple[str | None, str], int]:
    """Agents observed per (kind, tool), per tool, and persons across tools ('*')."""
    counts: dict[tuple[str | None, str], set[str]] = {}
    retention = results.get("retention")
    if retention is not None:
        for row in retention.select(["kind", "tool", "agent"]).to_pylist():
            counts.setdefault((row["kind"], row["tool"]), set()).add(row["agent"])
            counts.setdefault((None, row["tool"]), set()).add(row["agent"])
    linkage = results.get("linkage")
    if linkage is not None:
        counts[(None, "*")] = {str(a) for a in linkage.column("agent").to_pylist()}
    return {key: len(value) for key, value in counts.items()}


def prior_findings_table(findings: list[Finding]) -> pa.Table:
    """Findings so far, as the table the ``dpia`` metric reads (GOV-002 depends on other rules)."""
    return pa.table({
        "rule": pa.array([f.rule for f in findings], pa.string()),
        "tool": pa.array([f.tool for f in findings], pa.string()),
        "severity_rank": pa.array([severity_rank(f.severity) for f in findings], pa.int32()),
        "n_agents": pa.array([f.counts["agents_observed"] for f in findings], pa.int64()),
    })


def capability_findings(
    rules: Mapping[str, Rule], gaps: pa.Table | None, findings: list[Finding], policy: Policy
) -> list[Finding]:
    """'This tool can also record X; your export does not show it' for rules that found nothing."""
    from auditor.tools import sheets

    if gaps is None or gaps.num_rows == 0:
        return []
    fired = {(f.rule, f.tool) for f in findings}
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for row in gaps.to_pylist():
        if row["missing"]:
            by_tool.setdefault(row["tool"], []).append(row)
    made: list[Finding] = []
    for rule in rules.values():
        if not rule.capabilities:
            continue
        for tool, rows in sorted(by_tool.items()):
            hits = [r for r in rows if r["capability"] in rule.capabilities]
            if not hits or (rule.id, tool) in fired:
                continue
            sheet = sheets()[hits[0]["product"]]
            wanted = {h["capability"] for h in hits}
            chosen = [c for c in sheet.capabilities if c.id in wanted]
            capabilities: list[dict[str, Any]] = [
                {"id": c.id, "title": c.title, "evidence": c.evidence, "source": c.source, "product": sheet.product}
                for c in chosen
            ]
            items = {lang: "; ".join(c.title[lang] for c in chosen) for lang in ("fr", "en")}
            made.append(Finding(
                rule=rule.id,
                title=dict(rule.title),
                explanation={lang: render_capability(lang, sheet.product, items[lang]) for lang in ("fr", "en")},
                ask=dict(sheet.ask),
                severity="info",
                evidence="capability",
                threshold_source=rule.threshold_source,
                references=[references()[r] for r in rule.references],
                metric="capability_gaps",
                tool=tool,
                kind=hits[0]["kind"],
                agents=[],
                per_agent=[],
                summary={"capability": [c["id"] for c in capabilities]},
                counts={"agents_affected": 0, "agents_observed": int(hits[0]["n_agents"] or 0),
                        "rows_matched": len(hits)},
                policy_defaults=[],
                capabilities=capabilities,
            ))
    return made


def render_capability(lang: str, product: str, items: str) -> str:
    from auditor.i18n import t

    return t("finding.capability", lang, product=product, items=items)
