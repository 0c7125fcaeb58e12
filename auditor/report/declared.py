"""The committee's declared-vs-observed table: what the employer said against what the exports show.

Rows come from the ``field_inventory`` and ``retention`` metrics and from the policy itself. Every figure
describes a whole tool; a tool used by fewer than k agents shows no observed figure.
"""

from __future__ import annotations

import statistics
from typing import Any

import pyarrow as pa

from auditor import schemas
from auditor.i18n import format_day, format_number, t
from auditor.policy import Policy
from auditor.privacy import is_small


def rows(metrics: dict[str, pa.Table], policy: Policy, k: int, lang: str) -> list[dict[str, Any]]:
    """Declared vs observed per tool (fields, retention), then the declaration's own dates and purposes."""
    out: list[dict[str, Any]] = []
    fields = metrics.get("field_inventory")
    retention = metrics.get("retention")
    tools = sorted({(r["kind"], r["tool"]) for r in (fields.to_pylist() if fields is not None else [])})
    for kind, tool in tools:
        out += _fields_row(fields, kind, tool, policy, k, lang)
        out += _retention_row(retention, kind, tool, policy, k, lang)
    undeclared = t("report.declared.none", lang)
    for name in ("go_live_date", "consultation_date", "dpia_date"):
        value = getattr(policy, name)
        out.append(_row(t(f"report.declared.{name}", lang), "*", format_day(value, lang) if value else undeclared,
                        t("report.declared.not_in_exports", lang), value is None))
    out.append(_row(t("report.declared.purposes", lang), "*", "; ".join(policy.purposes) or undeclared,
                    t("report.declared.not_in_exports", lang), not policy.purposes))
    return out


def _row(topic: str, scope: str, declared: str, observed: str, gap: bool) -> dict[str, Any]:
    return {"topic": topic, "scope": scope, "declared": declared, "observed": observed, "gap": gap}


def _fields_row(table: pa.Table | None, kind: str, tool: str, policy: Policy, k: int,
                lang: str) -> list[dict[str, Any]]:
    if table is None:
        return []
    mine = [r for r in table.to_pylist() if r["kind"] == kind and r["tool"] == tool]
    agents = max((r["n_agents"] or 0 for r in mine), default=0)
    filled = sorted(r["field"] for r in mine if (r["n_non_null"] or 0) > 0 and r["field"] != "agent")
    declared = policy.declared_fields.get(kind)
    extra = [_title(kind, name, lang) for name in sorted(set(filled) - set(declared or ()))]
    filled = [_title(kind, name, lang) for name in filled]
    if is_small(agents, k):
        observed = t("report.fewer_than", lang, k=k)
    else:
        observed = t("report.declared.fields_observed", lang, n=len(filled), fields=", ".join(filled))
        if declared is not None and extra:
            observed += " " + t("report.declared.fields_extra", lang, fields=", ".join(extra))
    none = t("report.declared.none", lang)
    text = ", ".join(_title(kind, n, lang) for n in declared) if declared is not None else none
    gap = declared is None or (bool(extra) and not is_small(agents, k))
    return [_row(t("report.declared.fields", lang), f"{tool} ({kind})", text, observed, gap)]


def _title(kind: str, name: str, lang: str) -> str:
    """A field's plain title ("Heure d'appel") rather than its column name, when the schema knows it."""
    schema = schemas.get(kind)
    return schema.field(name).title[lang] if name in schema.names else name


def _retention_row(table: pa.Table | None, kind: str, tool: str, policy: Policy, k: int,
                   lang: str) -> list[dict[str, Any]]:
    if table is None:
        return []
    mine = [r for r in table.to_pylist() if r["kind"] == kind and r["tool"] == tool and r["span_days"] is not None]
    if not mine:
        return []
    declared_days = policy.retention_days.get(kind)
    cap = mine[0]["cap_days"]
    declared = (t("report.declared.days", lang, n=format_number(declared_days, lang)) if declared_days
                else t("report.declared.none", lang))
    if cap:
        declared += " " + t("report.declared.cap", lang, n=format_number(cap, lang))
    if is_small(len(mine), k):
        return [_row(t("report.declared.retention", lang), f"{tool} ({kind})", declared,
                     t("report.fewer_than", lang, k=k), declared_days is None)]
    spans = [r["span_days"] for r in mine]
    limit = declared_days or cap
    beyond = sum(1 for s in spans if limit and s > limit)
    observed = t("report.declared.span", lang, median=format_number(round(statistics.median(spans), 1), lang))
    if limit:
        observed += " " + t("report.declared.beyond", lang,
                            n=beyond if not (0 < beyond < k) else t("report.fewer_than", lang, k=k))
    return [_row(t("report.declared.retention", lang), f"{tool} ({kind})", declared, observed,
                 declared_days is None or beyond > 0)]
