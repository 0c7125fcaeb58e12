"""The access-request letter (GDPR art. 15, with the consultation logs of CJEU C-579/21), in Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from auditor import schemas
from auditor.i18n import t

ITEMS = ("a", "b", "c", "d", "e", "f", "g", "h")


def tool_kinds(tool: str) -> tuple[str, tuple[str, ...], list[dict[str, str]]]:
    """(product name, kinds, capability titles) from the tool sheets, or the bare name when unknown."""
    from auditor.tools import sheets

    for sheet in sorted(sheets().values(), key=lambda s: s.id):
        if sheet.id == tool or sheet.matches_tool(tool):
            return sheet.product, sheet.kinds, [dict(c.title) for c in sheet.capabilities]
    return tool, (), []


def fields_of(kind: str, lang: str) -> list[str]:
    return [f"{f.title[lang]} — {f.description[lang]}" for f in schemas.get(kind).fields
            if f.name not in ("tool", "source_file", "source_row")]


def letter(tools: Iterable[tuple[str, str]], lang: str, name: str | None = None,
           not_given: Iterable[str] = ()) -> str:
    """``tools`` is (tool, kind) pairs; ``not_given`` what a product can record that the export lacks."""
    lines = [t("letter.to", lang), "", t("letter.subject", lang), "", t("letter.opening", lang), ""]
    lines += [t("letter.intro", lang), ""]
    for tool, kind in tools:
        lines.append(f"### {tool} — {schemas.get(kind).title[lang]}")
        lines.append("")
        lines += [f"- {line}" for line in fields_of(kind, lang)]
        lines.append("")
    extra = sorted(set(not_given))
    if extra:
        lines += [t("letter.not_given", lang), ""] + [f"- {item}" for item in extra] + [""]
    lines += [t("letter.items", lang), ""]
    lines += [f"- ({i}) {t(f'letter.item.{i}', lang)}" for i in ITEMS]
    lines += ["", t("letter.copy", lang), "", t("letter.logs", lang), "", t("letter.delay", lang), "",
              t("letter.closing", lang), "", name or t("letter.signature", lang), ""]
    return "\n".join(lines)
