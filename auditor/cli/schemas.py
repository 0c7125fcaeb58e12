"""`auditor schemas list|show KIND`: the canonical kinds and their fields."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from auditor import schemas as canonical
from auditor.cli.common import echo_json, format_option
from auditor.cli.main import cli
from auditor.i18n import current_lang, t


@cli.group()
def schemas() -> None:
    """Types de données canoniques / canonical kinds of data."""


@schemas.command("list")
@format_option("table", "json")
def list_kinds(fmt: str) -> None:
    """Lister les types / list the kinds.  Exemple / example: auditor schemas list"""
    lang = current_lang()
    kinds = canonical.all_kinds()
    if fmt == "json":
        echo_json({"schema_version": 1, "kinds": [
            {"kind": k.kind, "title": k.title, "description": k.description, "fields": list(k.names)} for k in kinds
        ]})
        return
    table = Table(t("schemas.kind"), t("schemas.title"), t("schemas.fields"), box=None)
    for k in kinds:
        table.add_row(k.kind, k.title[lang], str(len(k.fields)))
    Console(highlight=False).print(table)


@schemas.command("show")
@click.argument("kind")
@format_option("table", "json")
def show_kind(kind: str, fmt: str) -> None:
    """Décrire un type champ par champ / describe a kind field by field.

    Exemple / example: auditor schemas show positions --format json
    """
    schema = canonical.get(kind)
    if fmt == "json":
        echo_json(schema.descriptor)
        return
    lang = current_lang()
    console = Console(highlight=False)
    console.print(f"[bold]{schema.kind}[/bold] — {schema.title[lang]}\n{schema.description[lang]}\n")
    table = Table(t("schemas.field"), t("schemas.type"), t("schemas.required"), t("schemas.unit"),
                  t("schemas.sensitivity"), t("schemas.description"), box=None)
    for f in schema.fields:
        table.add_row(f.name, str(f.arrow_type), t("word.yes") if f.required else "", f.unit or "", f.sensitivity,
                      f.description[lang])
    console.print(table)
