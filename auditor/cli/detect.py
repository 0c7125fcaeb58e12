"""`auditor detect PATH...`: which parser, kind, tool, encoding and confidence for each file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from auditor import api
from auditor.cli.common import echo_json, format_option
from auditor.cli.main import cli
from auditor.errors import InputError
from auditor.i18n import t
from auditor.sources import registry


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option("table", "json")
def detect(paths: tuple[Path, ...], fmt: str) -> None:
    """Reconnaître le format de chaque fichier / recognise each file's format.

    Exemple / example:  auditor detect sample_exports/ --format json
    """
    results: list[dict[str, object]] = []
    failed = False
    for source, explicit in api.sources(paths):
        try:
            found = registry.detect(source)
            shown = str(source.path) if source.path and not source.chain else source.name
            results.append({
                "file": shown, "parser": found.parser, "kind": found.kind, "tool": found.tool,
                "confidence": found.confidence, "encoding": found.encoding, "encoding_how": found.encoding_how,
                "ambiguous": found.ambiguous, "candidates": [list(c) for c in found.candidates],
            })
        except InputError as error:
            failed = failed or explicit  # an unrecognised file inside a folder is listed, not an error
            results.append({"file": source.name, "error": error.code, "message": error.render()})
    if fmt == "json":
        echo_json({"schema_version": 1, "files": results})
    else:
        table = Table(t("detect.file"), t("detect.parser"), t("detect.kind"), t("detect.encoding"),
                      t("detect.confidence"), box=None)
        for r in results:
            if "error" in r:
                table.add_row(str(r["file"]), f"[red]{r['message']}[/red]", "", "", "")
            else:
                note = " " + t("detect.ambiguous") if r["ambiguous"] else ""
                table.add_row(str(r["file"]), str(r["parser"]) + note, str(r["kind"]), str(r["encoding"]),
                              f"{r['confidence']:.2f}")
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(table)
    if failed:
        raise click.exceptions.Exit(2)
