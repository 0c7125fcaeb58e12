"""`auditor synth --out DIR`: write realistic synthetic exports in every supported format."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.main import cli
from auditor.i18n import t
from auditor.synth import write_exports
from auditor.synth.world import World


@cli.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de sortie / output folder.")
@click.option("--agents", default=6, show_default=True, type=click.IntRange(1, 100000))
@click.option("--days", default=10, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=7, show_default=True, type=int)
def synth(out: Path, agents: int, days: int, seed: int) -> None:
    """Écrire des exports fictifs réalistes / write realistic synthetic exports.

    Exemple / example:  auditor synth --out exemples/ --agents 6 --days 10 --seed 7
    """
    written = write_exports(out, World(seed=seed, agents_count=agents, days=days))
    for w in written:
        click.echo(t("synth.file", None, path=str(w.path), parser=w.parser, rows=w.rows), err=True)
