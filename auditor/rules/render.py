"""Fill a rule's explanation template with measured values, written the way each language writes numbers."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from auditor.i18n import format_number


def number(value: float, lang: str) -> str:
    """12, 12.5 or 0.25 → '12', '12,5' / '12.5', '0,25' / '0.25' (at most 2 decimals)."""
    if float(value).is_integer():
        return format_number(int(value), lang)
    return format_number(round(value, 2) if abs(value) < 10 else round(value, 1), lang)


def value_text(name: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return {"fr": ("oui", "non"), "en": ("yes", "no")}[lang][0 if value else 1]
    if isinstance(value, int | float):
        if name.startswith("share_") or name.endswith("_share"):
            percent = number(round(100 * value, 1), lang)
            return f"{percent}\u202f%" if lang == "fr" else f"{percent}%"
        return number(value, lang)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render(template: str, values: Mapping[str, Any], lang: str) -> str:
    """``template`` with every ``{name}`` replaced; unknown names become '—' instead of failing."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(value_text(name, values.get(name), lang))
    return "".join(out)
