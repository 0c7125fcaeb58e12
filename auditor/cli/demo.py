"""`auditor demo`: synthetic exports, then the whole pipeline on them; prints where the results are."""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api
from auditor.cli.main import cli
from auditor.i18n import t
from auditor.synth import write_exports
from auditor.synth.world import World


@cli.command()
@click.option("--out", "out", default=Path("auditor-demo"), show_default=True,
              type=click.Path(path_type=Path, file_okay=False), help="Dossier de sortie / output folder.")
@click.option("--seed", default=7, show_default=True, type=int)
def demo(out: Path, seed: int) -> None:
    """Démonstration complète sur des données fictives / full demonstration on fictitious data.

    Exemple / example:  auditor demo --out /tmp/demo
    """
    exports = out / "exports"
    written = write_exports(exports, World(seed=seed))
    click.echo(t("demo.synth", None, count=len(written), path=str(exports)), err=True)
    result = api.ingest([exports], out / "workspace")
    rows = sum(p.rows_parsed for p in result.provenance)
    rejected = sum(p.rows_rejected for p in result.provenance)
    click.echo(t("demo.ingest", None, rows=rows, rejected=rejected, path=str(result.out)), err=True)
    click.echo(str(out.resolve()))
