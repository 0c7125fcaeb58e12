"""The committee report's view model: per tool, populations and findings; keyed pseudonyms; no group < k."""

from __future__ import annotations

from collections import Counter
from typing import Any

from auditor import schemas
from auditor.i18n import t
from auditor.model import Dataset
from auditor.privacy import is_small, pseudonym
from auditor.report import charts, declared, facts
from auditor.report.common import SCHEMA_VERSION, finding_view, generated_at, provenance_view
from auditor.rules.engine import AuditResult
from auditor.rules.model import severity_rank

PER_AGENT_BINS = (0, 10, 50, 100, 500, 1000)


def build(dataset: Dataset, result: AuditResult, key: bytes, k: int, lang: str,
          raw_identifiers: bool = False) -> dict[str, Any]:
    """The committee's view; ``raw_identifiers`` (an explicit flag only) adds real identifiers beside pseudonyms."""
    def count(n: int | None) -> int | str:
        if n is None or is_small(n, k):
            return t("report.fewer_than", lang, k=k)
        return n

    tools: list[dict[str, Any]] = []
    for kind, table in sorted(dataset.tables.items()):
        for tool, rows in facts.groups(table):
            agents = Counter(a for a in rows.column("agent").to_pylist() if a is not None)
            small = is_small(len(agents), k)
            column = facts.main_time(kind, rows)
            times = facts.local_times(rows, column)
            hours: dict[int, set[str]] = {}
            records: Counter[int] = Counter()
            if column:
                for agent, when in zip(rows.column("agent").to_pylist(), rows.column(column).to_pylist(), strict=True):
                    if when is not None and agent is not None:
                        hour = when.astimezone(facts.LOCAL).hour
                        hours.setdefault(hour, set()).add(agent)
                        records[hour] += 1
            by_hour = [] if small else _by_hour(hours, records, k, count)  # a small tool shows no distribution
            tools.append({
                "tool": tool,
                "kind": kind,
                "kind_title": schemas.get(kind).title[lang],
                "agents": count(len(agents)),
                "records": rows.num_rows if not is_small(len(agents), k) else count(len(agents)),
                "first": facts.day_text(times[0].date().isoformat(), lang) if times and not small else None,
                "last": facts.day_text(times[-1].date().isoformat(), lang) if times and not small else None,
                "per_agent": [] if small else [{"bin": _bin_label(i), "agents": count(n)}
                                               for i, n in _bins(agents.values())],
                "by_hour": by_hour,
                "charts": {"hours": charts.hourly_bars(by_hour, lang, str(len(tools)))}
                if any(not h["masked"] for h in by_hour) else {},
            })
    findings = []
    for f in result.findings:
        affected = f.counts.get("agents_affected", len(f.agents))
        small = bool(f.per_agent) and is_small(len(f.agents), k)
        view = finding_view(f, lang, severity=f.severity,
                            explanation=t("report.suppressed", lang, k=k) if small else f.explanation[lang])
        view["agents_affected"] = count(affected) if f.per_agent or affected else 0
        view["agents_observed"] = count(f.counts.get("agents_observed"))
        view["pseudonyms"] = [] if small else sorted(pseudonym(a, key) for a in f.agents)
        if raw_identifiers and not small:
            view["identifiers"] = sorted(f.agents)
        findings.append(view)
    findings.sort(key=lambda v: (-severity_rank(v["severity"]), v["rule"], v["tool"]))
    questions = list(dict.fromkeys(v["ask"] for v in findings if v["ask"]))
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "committee",
        "lang": lang,
        "generated_at": generated_at(),
        "title": t("report.committee.title", lang),
        "k": k,
        "tools": tools,
        "findings": findings,
        "questions": questions,
        "declared": declared.rows(result.metrics, result.policy, k, lang),
        "provenance": [_masked(provenance_view(p), dataset.agents(), key) for p in dataset.provenance],
        "policy_note": t("report.policy.defaults", lang) if not result.policy.declared else "",
    }


def _by_hour(hours: dict[int, set[str]], records: Counter[int], k: int, count: Any) -> list[dict[str, Any]]:
    """Records per local hour; consecutive hours seen for fewer than k agents merge into one masked range."""
    out: list[dict[str, Any]] = []
    for hour in sorted(hours):
        small = is_small(len(hours[hour]), k)
        if small and out and out[-1]["masked"] and out[-1]["until"] == hour - 1:
            out[-1]["until"] = hour
            continue
        out.append({"hour": hour, "until": hour, "masked": small,
                    "records": count(len(hours[hour])) if small else records[hour]})
    return out


def _bins(values: Any) -> list[tuple[int, int]]:
    counts: Counter[int] = Counter()
    for v in values:
        counts[max(i for i, low in enumerate(PER_AGENT_BINS) if v > low or i == 0)] += 1
    return sorted(counts.items())


def _bin_label(i: int) -> str:
    low = PER_AGENT_BINS[i] + 1 if i else 1
    return f"{low}–{PER_AGENT_BINS[i + 1]}" if i + 1 < len(PER_AGENT_BINS) else f"> {PER_AGENT_BINS[i]}"


def _masked(view: dict[str, Any], agents: list[str], key: bytes) -> dict[str, Any]:
    """File names often carry the agent's name (``gpx/bdubois.gpx``): replace it by the pseudonym."""
    name = view["file"]
    for agent in sorted(agents, key=len, reverse=True):
        if agent and agent in name:
            name = name.replace(agent, pseudonym(agent, key))
    return {**view, "file": name}
