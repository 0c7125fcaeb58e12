"""Docs that cannot rot: the CLI reference is the commands' own --help, and every parser, kind and
command is documented. Regenerate with `AUDITOR_REGEN_DOCS=1 uv run pytest tests/test_docs.py`."""

from __future__ import annotations

import os

import click
from click.testing import CliRunner

from auditor import schemas
from auditor.cli.main import _load_commands, cli
from auditor.sources import registry
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


def cli_reference() -> str:
    _load_commands()
    runner = CliRunner()
    parts = ["# Référence de la ligne de commande / command-line reference", "",
             "Généré depuis `--help` / generated from `--help` (tests/test_docs.py).", ""]
    for path in [(), *_commands(cli)]:
        result = runner.invoke(cli, [*path, "--help"], prog_name="auditor", terminal_width=100,
                               env={"AUDITOR_LANG": "fr"})
        title = " ".join(("auditor", *path))
        parts += [f"## `{title}`", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


def formats_table() -> str:
    lines = ["# Formats lus / supported formats", "",
             "Généré depuis le registre des lecteurs / generated from the parser registry (tests/test_docs.py).", "",
             "| format | type / kind | outil / tool | champs repris / fields mapped | ce que l'export ne montre pas |"
             " what the export cannot show |", "|---|---|---|---|---|---|"]
    for parser in registry.parsers():
        fields = ", ".join(f"`{f}`" for f in parser.roundtrip_fields) or "—"
        lines.append(f"| `{parser.name}` — {parser.title['fr']} | `{parser.kind}` | {parser.tool} | {fields} | "
                     f"{parser.blind_spots['fr'] or '—'} | {parser.blind_spots['en'] or '—'} |")
    return "\n".join(lines) + "\n"


def canonical_model() -> str:
    lines = ["# Modèle canonique / canonical model", "",
             "Généré depuis `schemas/*.json` / generated from `schemas/*.json` (tests/test_docs.py).", ""]
    for kind in schemas.all_kinds():
        lines += [f"## `{kind.kind}` — {kind.title['fr']} / {kind.title['en']}", "", kind.description["fr"], "",
                  kind.description["en"], "", "| champ / field | type | requis / required | unité / unit | "
                  "sensibilité / sensitivity | description |", "|---|---|---|---|---|---|"]
        for f in kind.fields:
            lines.append(f"| `{f.name}` | {f.arrow_type} | {'✓' if f.required else ''} | {f.unit or ''} | "
                         f"{f.sensitivity} | {f.description['fr']} — *{f.description['en']}* |")
        lines.append("")
    return "\n".join(lines)


def _check(name: str, text: str) -> None:
    target = DOCS / name
    if os.environ.get("AUDITOR_REGEN_DOCS"):
        target.write_text(text, encoding="utf-8")
    assert target.exists() and target.read_text(encoding="utf-8") == text, (
        f"docs/{name} is stale: AUDITOR_REGEN_DOCS=1 uv run pytest tests/test_docs.py"
    )


def test_cli_reference_is_current() -> None:
    _check("cli.md", cli_reference())


def test_formats_table_is_current() -> None:
    _check("formats.md", formats_table())


def test_canonical_model_is_current() -> None:
    _check("canonical-model.md", canonical_model())


def test_every_parser_and_kind_is_in_the_docs() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for parser in registry.parsers():
        assert f"`{parser.name}`" in text, parser.name
    for kind in schemas.KINDS:
        assert f"`{kind}`" in text, kind
