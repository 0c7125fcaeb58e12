"""The personal report's view model: what each tool keeps about ONE person.

A person may hold several identifiers (login, staff number, e-mail; see ``people``). Every table is
filtered to the person's (tool, identifier) pairs before anything is computed; findings keep only the
person's own values; values equal to another identifier are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from auditor import schemas
from auditor.i18n import t
from auditor.model import Dataset
from auditor.report import charts, facts
from auditor.report.common import SCHEMA_VERSION, finding_view, generated_at, number, provenance_view
from auditor.report.index import ReportIndex
from auditor.report.people import Person
from auditor.rules.engine import AuditResult
from auditor.rules.model import severity_rank
from auditor.rules.render import render

EXAMPLES = 5
#: Other people's data (users, patients) and free text that may name them: never copied into a report.
MASKED = ("third_party", "special_category")
FREE_TEXT = ("subject", "comment", "object", "detail")
HIDDEN_COLUMNS = ("agent", "tool", "source_file", "source_row")


def as_person(who: Person | str) -> Person:
    return who if isinstance(who, Person) else Person.single(who)


def agent_tables(dataset: Dataset, who: Person | str, index: ReportIndex | None = None) -> dict[str, pa.Table]:
    """The person's rows of every kind (the one filter every personal figure goes through).

    Only the rows of the person's identifiers are ever read (the dataset's per-agent index), never a
    whole kind; identifiers that are theirs in some tools only are then narrowed to those tools.
    """
    person = as_person(who)
    out = {}
    for kind in dataset.kinds():
        mine = index.rows(kind, person.identifiers) if index is not None else None
        if mine is None:
            mine = dataset.rows_of(kind, person.identifiers)
        if not person.any_tool:
            mine = mine.filter(person.mask(mine))
        if mine.num_rows:
            out[kind] = mine
    return out


def build(dataset: Dataset, result: AuditResult, who: Person | str, lang: str, with_svg: bool = True,
          index: ReportIndex | None = None) -> dict[str, Any]:
    """The view of ``who``; an ``index`` built once per audit makes a batch of reports linear in rows (without
    one, the person's rows are one filtered read of each kind: right for a single report).

    ``with_svg=False`` leaves the pictures (``charts``, shown by HTML only) out; every other field is the same.
    """
    person = as_person(who)
    index = index or ReportIndex(dataset, result, batch=False)
    others = _Others(index.identifier_set, frozenset(person.identifiers))
    tables = agent_tables(dataset, person, index)
    tools = [
        _tool_view(kind, tool, rows, lang, others, with_svg)
        for kind, table in tables.items()
        for tool, rows in facts.groups(table)
    ]
    used = {(v["kind"], v["tool"]) for v in tools}
    findings = _findings(result, index, person, {tool for _, tool in used}, lang)
    for view in tools:
        view["retention"] = _retention(index, person, view, lang, with_svg)
    for view in tools:
        view["findings"] = [f for f in findings if f["tool"] == view["tool"]]  # cross-tool ones: once, below
    files = index.files(person)
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "personal",
        "lang": lang,
        "generated_at": generated_at(),
        "title": t("report.personal.title", lang),
        "agent": person.name,
        "identifiers": person.identifiers,
        "summary": _summary(tools, findings, lang),
        "tools": tools,
        "findings": findings,
        "actions": [t(f"report.action.{a}", lang) for a in ("access", "rectify", "erase", "committee", "cnil")],
        "provenance": [provenance_view(p) for p in dataset.provenance if p.file in files],
        "policy_note": t("report.policy.defaults", lang) if not result.policy.declared else "",
    }


@dataclass(frozen=True)
class _Others:
    """The identifiers of everyone but the person (a question asked of a few cells; not a copy of thousands)."""

    everyone: frozenset[str]
    mine: frozenset[str]

    def __contains__(self, value: object) -> bool:
        return value in self.everyone and value not in self.mine


def _tool_view(kind: str, tool: str, rows: pa.Table, lang: str, others: _Others, with_svg: bool) -> dict[str, Any]:
    schema = schemas.get(kind)
    present = facts.non_null_fields(rows)
    fields = [
        {"name": f.name, "title": f.title[lang], "description": f.description[lang], "sensitivity": f.sensitivity}
        for f in schema.fields if f.name in present and f.name not in ("tool", "source_file", "source_row")
    ]
    column = facts.main_time(kind, rows)
    found = facts.instants(rows.column(column)) if column else None
    times = facts.Moments(rows, column, found)
    fixes = facts.Fixes(rows, found if column == "time" else None) if kind == "positions" else None
    first, last = (times.at(0), times.at(len(times) - 1)) if len(times) else (None, None)
    view: dict[str, Any] = {
        "tool": tool,
        "kind": kind,
        "kind_title": schema.title[lang],
        "kind_description": schema.description[lang],
        "records": rows.num_rows,
        "first": first.isoformat(timespec="minutes") if first else None,
        "last": last.isoformat(timespec="minutes") if last else None,
        "first_text": facts.when(first, lang) if first else "—",
        "last_text": facts.when(last, lang) if last else "—",
        "fields": fields,
        "examples": _examples(schema, rows, found, present, others, lang),
        "precision": _precision(kind, rows, times, lang),
        "resolution": times.resolution if len(times) else None,
        "derived": _derived(kind, rows, times, fixes, lang),
        "grid": times.weekday_hour(),
        "figures": [],
        "charts": {},
    }
    day = times.busiest_day()
    in_day = times.on_day(day) if day else []
    if len(times):
        cells = [n for row in view["grid"] for n in row]
        most = max(cells)
        weekday, hour = divmod(cells.index(most), 24)  # the first of equals: the earliest day, then hour
        view["figures"].append(t("report.figure.grid", lang, day=t("report.weekdays_long", lang).split(",")[weekday],
                                 hour=hour, n=most))
    if day:
        view["figures"].append(t("report.figure.timeline", lang, day=facts.day_text(day, lang), n=len(in_day),
                                 first=in_day[0].strftime("%H:%M"), last=in_day[-1].strftime("%H:%M")))
    if with_svg and len(times):
        view["charts"]["grid"] = charts.weekday_grid(view["grid"], lang)
        if day:
            view["charts"]["timeline"] = charts.day_timeline(facts.day_text(day, lang), in_day, lang)
    if fixes is not None and day:  # the figure always (the picture's text), the picture for HTML only
        pts = fixes.trail(day)
        if with_svg:
            view["charts"]["trail"] = charts.trail(pts, lang)
        view["figures"].append(t("report.figure.trail", lang, day=facts.day_text(day, lang), n=len(pts)))
    return view


def _retention(index: ReportIndex, person: Person, view: dict[str, Any], lang: str, with_svg: bool) -> list[str]:
    """The span of the person's records in this tool against the declared and recommended retention."""
    mine = [r for name in person.identifiers for r in index.retention.get(name, [])
            if r["tool"] == view["tool"] and r["kind"] == view["kind"]
            and person.owns(r["tool"], r["agent"]) and r["span_days"] is not None]
    if not mine:
        return []
    span = max(r["span_days"] for r in mine)
    cap, declared = mine[0]["cap_days"], mine[0]["declared_days"]
    out = [t("report.retention.span", lang, days=number(span, lang))]
    limits = []
    if declared:
        out.append(t("report.retention.declared", lang, days=number(declared, lang)))
        limits.append((t("report.retention.declared_short", lang, days=number(declared, lang)), float(declared)))
    else:
        out.append(t("report.retention.undeclared", lang))
    if cap:
        out.append(t("report.retention.cap", lang, days=number(cap, lang)))
        limits.append((t("report.retention.cap_short", lang, days=number(cap, lang)), float(cap)))
    if with_svg:
        view["charts"]["retention"] = charts.retention_bar(span, limits, lang)
    return out


def _examples(schema: schemas.KindSchema, rows: pa.Table, found: facts.Instants | None, present: list[str],
              others: _Others, lang: str) -> dict[str, Any]:
    """The person's first rows in time (``found``: their main time column's instants), or in the table's order."""
    names = [f.name for f in schema.fields if f.name in present and f.name not in HIDDEN_COLUMNS]
    masked = {f.name for f in schema.fields if f.sensitivity in MASKED or f.name in FREE_TEXT}
    first = rows.take(facts.earliest(found, EXAMPLES)) if found else rows.slice(0, EXAMPLES)
    out = []
    for row in first.to_pylist():
        cells = []
        for name in names:
            value = facts.plain(row.get(name), lang)
            if value is not None and name in masked:
                value = t("report.masked_short", lang)
            elif isinstance(value, str) and value in others:
                value = t("report.other_agent", lang)
            cells.append("" if value is None else str(value))
        out.append(cells)
    hidden = {t("report.masked_short", lang), t("report.other_agent", lang)}
    return {"columns": [schema.field(n).title[lang] for n in names], "rows": out,
            "masked": any(cell in hidden for row in out for cell in row)}


def _precision(kind: str, rows: pa.Table, times: facts.Moments, lang: str) -> list[str]:
    out = []
    if len(times):
        out.append(t(f"report.precision.{times.resolution}", lang))
    if "accuracy_m" in rows.column_names:
        acc = facts.column_median(rows, "accuracy_m")
        if acc is not None:
            out.append(t("report.precision.accuracy", lang, metres=number(acc, lang)))
    if kind == "positions":
        step = times.sampling_interval_s()
        if step is not None:
            out.append(t("report.precision.sampling", lang, seconds=number(step, lang)))
    return out


def _derived(kind: str, rows: pa.Table, times: facts.Moments, fixes: facts.Fixes | None, lang: str) -> list[str]:
    out = []
    if len(times):
        out.append(t("report.derived.outside", lang, n=times.outside_hours(), total=len(times)))
    if kind == "appointments":
        pauses = facts.appointment_pauses(rows)
        if pauses:
            out.append(t("report.derived.pauses", lang, n=len(pauses), median=number(facts.median(pauses) or 0, lang)))
    if kind == "queue_tickets":
        served = facts.durations_min(rows, "served_start", "served_end")
        if served:
            out.append(t("report.derived.service", lang, n=len(served),
                         median=number(facts.median(served) or 0, lang)))
    if fixes is not None:
        home = fixes.home_cell()
        if home:
            out.append(t("report.derived.home", lang, lat=home[0], lon=home[1], n=home[2]))
    if kind == "web_requests" and "domain" in rows.column_names:
        out.append(t("report.derived.domains", lang, n=facts.count_distinct_texts(rows, "domain")))
    return out


def _findings(result: AuditResult, index: ReportIndex, person: Person, tools: set[str],
              lang: str) -> list[dict[str, Any]]:
    """The person's findings with their own values; tool-level findings with no figure about others."""
    out = []
    names = sorted({person.name, *person.identifiers})
    for finding, by_agent in zip(result.findings, index.values, strict=True):
        if finding.tool not in tools and finding.tool != "*":
            continue
        mine = sorted((a for name in names for a in by_agent.get(name, [])), key=lambda a: -severity_rank(a.severity))
        if finding.per_agent and not mine:
            continue
        rule = result.rules.get(finding.rule)
        if mine:
            values = {**mine[0].values, "tool": finding.tool, "kind": finding.kind or "", "n_agents": 1}
            severity = mine[0].severity
            explanation = render(rule.explanation[lang], values, lang) if rule else finding.title[lang]
        elif finding.evidence == "capability" or (rule and not _counts_people(rule.explanation[lang])):
            severity, explanation = finding.severity, finding.explanation[lang]
        else:
            severity, explanation = finding.severity, ""
        out.append(finding_view(finding, lang, severity=severity, explanation=explanation))
    return sorted(out, key=lambda f: (-severity_rank(f["severity"]), f["rule"], f["tool"]))


def _counts_people(template: str) -> bool:
    """A tool-level explanation that counts agents describes colleagues too: left out of a personal report."""
    return "{n_agents" in template


def _summary(tools: list[dict[str, Any]], findings: list[dict[str, Any]], lang: str) -> list[str]:
    names = ", ".join(sorted({v["tool"] for v in tools}))
    records = sum(v["records"] for v in tools)
    firsts = sorted((v["first"], v["first_text"]) for v in tools if v["first"])
    lasts = sorted((v["last"], v["last_text"]) for v in tools if v["last"])
    order = ("subsecond", "seconds", "minutes")
    levels = {v["tool"]: v["resolution"] for v in tools if v["resolution"]}
    best = min(levels.values(), key=order.index) if levels else None
    finest = [f"{t(f'report.precision.{best}', lang)} ({', '.join(sorted(k for k, r in levels.items() if r == best))})"
              if best else "—"]
    finest += list(dict.fromkeys(p for v in tools if v["kind"] == "positions" for p in v["precision"][1:]))
    serious = [f["title"] for f in findings if severity_rank(f["severity"]) >= severity_rank("high")]
    lead = t("report.summary.verdict_none", lang) if not serious else t("report.summary.verdict", lang)
    return [
        t("report.summary.tools", lang, n=len({v["tool"] for v in tools}), tools=names or "—"),
        t("report.summary.records", lang, n=number(records, lang)),
        t("report.summary.since", lang, first=firsts[0][1][:10] if firsts else "—",
          last=lasts[-1][1][:10] if lasts else "—"),
        t("report.summary.precision", lang, precision=(" ; " if lang == "fr" else "; ").join(finest)),
        t("report.summary.findings", lang, n=len(set(serious)), titles=", ".join(dict.fromkeys(serious)) or "—")
        + " " + lead,
    ]
