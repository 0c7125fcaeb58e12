"""Value types of the rules stage: Rule, Reference, Finding (with per-agent values and counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")
EVIDENCE_LEVELS = ("observed", "derivable", "capability", "not_observed")
THRESHOLD_SOURCES = ("law", "decision", "calibration")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Reference:
    """A legal text, article or decision (``references.yaml``)."""

    id: str
    text: str
    article: str
    url: str
    kind: str
    verified: bool
    date: str | None = None
    note: str | None = None
    found_via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Rule:
    """One catalogue rule, as validated from ``catalog/<ID>.yaml`` (see schemas/rule.schema.json)."""

    id: str
    status: str
    title: dict[str, str]
    explanation: dict[str, str]
    ask: dict[str, str]
    kinds: tuple[str, ...]
    metric: str
    condition: dict[str, Any]
    severity: str
    evidence: str
    threshold_source: str
    references: tuple[str, ...]
    escalate: tuple[tuple[str, dict[str, Any]], ...] = ()
    measures: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    threshold_note: dict[str, str] | None = None
    false_positives: dict[str, str] | None = None
    path: str = ""
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def max_severity(self) -> str:
        return max([self.severity, *(s for s, _ in self.escalate)], key=severity_rank)


@dataclass
class AgentValues:
    """What one agent (or person) measured, and the severity that row reached."""

    agent: str
    severity: str
    values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "severity": self.severity, "values": self.values}


@dataclass
class Finding:
    """A rule that matched for one tool (and kind): who, how much, how sure, and on which legal basis.

    ``agents`` are raw identifiers (pseudonymisation happens in reports). ``counts`` lets a committee
    report suppress any group smaller than k.
    """

    rule: str
    title: dict[str, str]
    explanation: dict[str, str]
    ask: dict[str, str]
    severity: str
    evidence: str
    threshold_source: str
    references: list[Reference]
    metric: str
    tool: str
    kind: str | None
    agents: list[str]
    per_agent: list[AgentValues]
    summary: dict[str, Any]
    counts: dict[str, int]
    policy_defaults: list[str]
    capabilities: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "explanation": self.explanation,
            "ask": self.ask,
            "severity": self.severity,
            "evidence": self.evidence,
            "threshold_source": self.threshold_source,
            "references": [r.to_dict() for r in self.references],
            "metric": self.metric,
            "tool": self.tool,
            "kind": self.kind,
            "agents": self.agents,
            "per_agent": [a.to_dict() for a in self.per_agent],
            "summary": self.summary,
            "counts": self.counts,
            "policy_defaults": self.policy_defaults,
            "capabilities": self.capabilities,
        }
