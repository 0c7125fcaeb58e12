"""Compare what an employer sent back to an access request with what its tools can record, and draft the
follow-up: an itemised reminder, and a complaint to the CNIL once the one-month delay (GDPR art. 12(3))
has passed.

What can be checked from the files themselves is checked (which kinds of data came back, which fields
of each capability sheet are filled); what only a letter can answer (art. 15(1)(a)–(h), the copy of
15(3), the consultation logs of CJEU C-579/21) is taken from the declaration when one came with the
reply, and otherwise from what the user says was answered (``answered``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from auditor import schemas
from auditor.i18n import format_day, t
from auditor.model import Dataset
from auditor.policy import Policy
from auditor.report.letter import ITEMS
from auditor.tools import Sheet, sheet_for, sheets

#: Art. 15(1) items a declaration can show answered, and the policy attribute that answers each.
FROM_DECLARATION = {"a": "purposes", "b": "declared_fields", "c": "recipients", "d": "retention_days"}
OTHER_ITEMS = ("copy", "logs")
#: The controller answers "without undue delay and in any event within one month" (art. 12(3)).
DELAY = timedelta(days=31)


@dataclass
class Gap:
    """One thing the reply lacks, in the user's language."""

    tool: str
    text: str


@dataclass
class Review:
    gaps: list[Gap] = field(default_factory=list)
    received: list[str] = field(default_factory=list)  # "product: n records of kind" lines
    items_missing: list[str] = field(default_factory=list)  # art. 15 item letters and OTHER_ITEMS
    late: bool = False
    deadline: date | None = None


def resolve_sheets(dataset: Dataset, named: Iterable[str]) -> list[tuple[str, Sheet]]:
    """(tool as found or named, its sheet) for every tool in the reply plus those named by the user."""
    found: dict[str, tuple[str, Sheet]] = {}
    tools: set[str] = set()
    if dataset.kinds():
        rows = dataset.sql(" UNION ".join(f"SELECT DISTINCT tool FROM {kind}" for kind in dataset.kinds()))
        tools = {tool for tool in rows.column("tool").to_pylist() if tool}
    for tool in sorted(tools) + list(named):
        sheet = sheet_for(tool) or sheets().get(tool)
        if sheet is not None and sheet.id not in found:
            found[sheet.id] = (tool, sheet)
    return [found[k] for k in sorted(found)]


def review(dataset: Dataset, named: Sequence[str], policy: Policy | None, answered: Iterable[str],
           sent: date | None, today: date, lang: str) -> Review:
    out = Review()
    for _tool, sheet in resolve_sheets(dataset, named):
        received = {kind: _received(dataset, kind, sheet) for kind in sheet.kinds}
        for kind, (rows, _) in received.items():
            title = schemas.get(kind).title[lang]
            if rows == 0:
                out.gaps.append(Gap(sheet.product, t("response.kind_missing", lang, kind=title)))
            else:
                out.received.append(t("response.received", lang, product=sheet.product, n=rows, kind=title))
        for cap in sheet.capabilities:
            if cap.kind is None or cap.field is None:
                out.gaps.append(Gap(sheet.product, t("response.ask_capability", lang, what=cap.title[lang])))
                continue
            rows, filled = received.get(cap.kind, (0, set()))
            if rows and cap.field not in filled:
                out.gaps.append(Gap(sheet.product, t("response.field_missing", lang, what=cap.title[lang])))
    given = set(answered)
    if policy is not None and policy.declared:
        given |= {item for item, attr in FROM_DECLARATION.items() if getattr(policy, attr)}
    out.items_missing = [i for i in (*ITEMS, *OTHER_ITEMS) if i not in given]
    if sent is not None:
        out.deadline = sent + DELAY
        out.late = today > out.deadline
    return out


def _received(dataset: Dataset, kind: str, sheet: Sheet) -> tuple[int, set[str]]:
    """The rows of ``kind`` from the sheet's product and which of the fields its capabilities name hold a value
    in at least one of them: one DuckDB aggregate per tool (a workspace's kind is scanned, never held whole)."""
    if kind not in dataset.kinds():
        return 0, set()
    names = sorted({cap.field for cap in sheet.capabilities
                    if cap.kind == kind and cap.field and cap.field in schemas.get(kind).names})
    counts = "".join(f', count("{name}") AS "{name}"' for name in names)
    per_tool = dataset.sql(f"SELECT tool, count(*) AS rows_{counts} FROM {kind} WHERE tool IS NOT NULL GROUP BY tool")
    mine = [row for row in per_tool.to_pylist() if sheet.matches_tool(row["tool"])]
    return sum(row["rows_"] for row in mine), {name for name in names if any(row[name] for row in mine)}


def item_text(item: str, lang: str) -> str:
    return t(f"letter.item.{item}", lang) if item in ITEMS else t(f"response.item.{item}", lang)


def reminder(result: Review, lang: str, sent: date | None, name: str | None = None) -> str:
    """The itemised reminder (Markdown): what came back, then each missing element, then the delay."""
    lines = [t("letter.to", lang), "", t("response.subject", lang), "", t("letter.opening", lang), ""]
    lines += [t("response.intro", lang, sent=format_day(sent, lang) if sent else "—"), ""]
    if result.received:
        lines += [t("response.received_intro", lang), ""] + [f"- {r}" for r in result.received] + [""]
    by_tool: dict[str, list[str]] = {}
    for gap in result.gaps:
        by_tool.setdefault(gap.tool, []).append(gap.text)
    if by_tool:
        lines += [t("response.gaps_intro", lang), ""]
        for tool, texts in sorted(by_tool.items()):
            lines += [f"### {tool}", ""] + [f"- {x}" for x in dict.fromkeys(texts)] + [""]
    if result.items_missing:
        lines += [t("response.items_intro", lang), ""]
        lines += [f"- ({i}) {item_text(i, lang)}" if i in ITEMS else f"- {item_text(i, lang)}"
                  for i in result.items_missing] + [""]
    if result.late and result.deadline:
        lines += [t("response.late", lang, deadline=format_day(result.deadline, lang)), ""]
    lines += [t("response.closing_delay", lang), "", t("letter.closing", lang), "",
              name or t("letter.signature", lang), ""]
    return "\n".join(lines)


def complaint(result: Review, lang: str, sent: date | None, name: str | None = None) -> str:
    """A draft complaint to the CNIL (Markdown), to file on cnil.fr once the reminder went unanswered."""
    lines = [f"# {t('response.cnil.title', lang)}", "", t("response.cnil.intro", lang), ""]
    lines += [f"- {t('response.cnil.sent', lang, sent=format_day(sent, lang) if sent else '—')}"]
    if result.deadline:
        lines += [f"- {t('response.cnil.deadline', lang, deadline=format_day(result.deadline, lang))}"]
    lines += [f"- {t('response.cnil.reminder', lang)}", ""]
    lines += [t("response.cnil.missing", lang), ""]
    lines += [f"- {gap.tool} : {gap.text}" if lang == "fr" else f"- {gap.tool}: {gap.text}" for gap in result.gaps]
    lines += [f"- {item_text(i, lang)}" for i in result.items_missing]
    lines += ["", t("response.cnil.basis", lang), "", t("response.cnil.attach", lang), "",
              name or t("letter.signature", lang), ""]
    return "\n".join(lines)
