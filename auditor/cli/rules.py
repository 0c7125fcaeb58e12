"""`auditor rules list|show ID`: the rule catalogue, as a table or JSON (--format json)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from auditor.cli.common import echo_json, format_option
from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.rules.loader import catalogue, references
from auditor.rules.model import Rule
from auditor.rules.yamlsafe import DocumentError


def _catalogue() -> dict[str, Rule]:
    try:
        return catalogue()
    except DocumentError as error:
        raise click.ClickException(t("rules.invalid") + "\n" + str(error)) from None


def rule_dict(rule: Rule) -> dict[str, Any]:
    """A rule as JSON: its reviewed document, with references resolved."""
    document = dict(rule.document)
    document["references"] = [references()[r].to_dict() for r in rule.references]
    document["max_severity"] = rule.max_severity
    return document


@cli.group()
def rules() -> None:
    """Le catalogue des règles / the rule catalogue.

    Exemple / example:  auditor rules list   ·   auditor rules show GEO-001 --format json
    """


@rules.command("list")
@format_option("table", "json")
def list_rules(fmt: str) -> None:
    """Toutes les règles / every rule."""
    catalogue_ = _catalogue()
    if fmt == "json":
        echo_json([rule_dict(r) for r in catalogue_.values()])
        return
    lang = current_lang()
    table = Table(show_lines=False)
    for key in ("id", "severity", "evidence", "threshold", "title"):
        table.add_column(t(f"rules.col.{key}", lang))
    for rule in catalogue_.values():
        table.add_row(rule.id, t(f"severity.{rule.max_severity}", lang), rule.evidence, rule.threshold_source,
                      rule.title[lang])
    Console(highlight=False).print(table)  # data: stdout


@rules.command("show")
@click.argument("rule_id")
@format_option("table", "json")
def show_rule(rule_id: str, fmt: str) -> None:
    """Une règle en détail / one rule in full.  Exemple : auditor rules show WEB-001"""
    catalogue_ = _catalogue()
    rule = catalogue_.get(rule_id.upper())
    if rule is None:
        raise click.ClickException(t("rules.unknown", None, id=rule_id))
    if fmt == "json":
        echo_json(rule_dict(rule))
        return
    lang = current_lang()
    lines = [
        f"{rule.id} — {rule.title[lang]}",
        f"{t('rules.field.status', lang)}: {rule.status}",
        f"{t('rules.field.kinds', lang)}: {', '.join(rule.kinds)}",
        f"{t('rules.field.metric', lang)}: {rule.metric}",
        f"{t('rules.field.condition', lang)}: {rule.condition}",
        f"{t('rules.field.severity', lang)}: {t('severity.' + rule.severity, lang)}",
    ]
    lines += [f"{t('rules.field.escalate', lang)}: {t('severity.' + s, lang)} ← {c}" for s, c in rule.escalate]
    lines += [
        f"{t('rules.field.evidence', lang)}: {t('evidence.' + rule.evidence, lang)}",
        f"{t('rules.field.threshold', lang)}: {t('threshold.' + rule.threshold_source, lang)}",
        f"{t('rules.field.explanation', lang)}: {rule.explanation[lang]}",
        f"{t('rules.field.ask', lang)}: {rule.ask[lang]}",
        f"{t('rules.field.references', lang)}:",
    ]
    for ref_id in rule.references:
        ref = references()[ref_id]
        lines.append(f"  - {ref.text} — {ref.article}{' (' + ref.date + ')' if ref.date else ''} {ref.url}")
    click.echo("\n".join(lines))
