"""`auditor parsers list`: the supported formats."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from auditor.cli.common import echo_json, format_option
from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.sources import registry


@cli.group()
def parsers() -> None:
    """Formats d'export lus / supported export formats."""


@parsers.command("list")
@format_option("table", "json")
def list_parsers(fmt: str) -> None:
    """Lister les formats / list the formats.  Exemple / example: auditor parsers list --format json"""
    found = [p.describe() for p in registry.parsers()]
    if fmt == "json":
        echo_json({"schema_version": 1, "parsers": found})
        return
    lang = current_lang()
    table = Table(t("parsers.name"), t("parsers.kind"), t("parsers.tool"), t("parsers.title"), box=None)
    for p in found:
        table.add_row(p["name"], p["kind"], p["tool"], p["title"].get(lang, ""))
    Console(highlight=False).print(table)
    click.echo(t("parsers.count", None, count=len(found)), err=True)
