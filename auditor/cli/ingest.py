"""`auditor ingest PATH... --out DIR`: canonical tables as Parquet, the rejects, and provenance.json."""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api
from auditor.cli.common import read_options
from auditor.cli.main import cli
from auditor.cli.progress import RowProgress
from auditor.i18n import t


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de sortie / output folder.")
@read_options
def ingest(paths: tuple[Path, ...], out: Path, timezone: str, agent: str | None, parser: str | None) -> None:
    """Lire les exports en tables canoniques / read exports into canonical tables.

    Exemple / example:  auditor ingest sample_exports/ --out ws/
    """
    options = api.ReadOptions(timezone=timezone, agent=agent, parser=parser)
    with RowProgress() as progress:
        result = api.ingest(paths, out, options, progress=progress.advance)
    for p in result.provenance:
        click.echo(t("ingest.file", None, file=p.file, parser=p.parser, kind=p.kind, rows_in=p.rows_in,
                     parsed=p.rows_parsed, rejected=p.rows_rejected), err=True)
    click.echo(t("ingest.done", None, out=str(out)), err=True)
