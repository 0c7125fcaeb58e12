"""`auditor synth --out DIR`: realistic synthetic exports in every supported format, or one large export.

``--format F --rows N`` writes a single export of N rows in format F at disk speed (``synth/scale.py``):
the inputs of the benchmarks (a year of a large employer), not a coherent world.
"""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.main import cli
from auditor.i18n import t
from auditor.synth import scale, write_exports
from auditor.synth.world import World


@cli.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de sortie / output folder.")
@click.option("--agents", default=None, type=click.IntRange(1, 100000),
              help="Nombre d'agents (défaut 6, ou 2000 avec --format) / number of agents (default 6, or 2000).")
@click.option("--days", default=10, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--format", "fmt", default=None, type=click.Choice(sorted(scale.LAYOUTS)),
              help="Un seul grand export dans ce format (mesures) / one large export in this format (benchmarks).")
@click.option("--rows", default=1_000_000, show_default=True, type=click.IntRange(1, 10**10),
              help="Lignes de l'export --format / rows of the --format export.")
def synth(out: Path, agents: int | None, days: int, seed: int, fmt: str | None, rows: int) -> None:
    """Écrire des exports fictifs réalistes / write realistic synthetic exports.

    Exemple / example:  auditor synth --out exemples/ --agents 6 --days 10 --seed 7

    Grand export / large export:  auditor synth --out /tmp/gros --format positions-csv --rows 10000000
    """
    if fmt is not None:
        path = scale.write(fmt, rows, out, agents=agents or 2000, seed=seed)
        click.echo(t("synth.file", None, path=str(path), parser=fmt, rows=rows), err=True)
        return
    written = write_exports(out, World(seed=seed, agents_count=agents or 6, days=days))
    for w in written:
        click.echo(t("synth.file", None, path=str(w.path), parser=w.parser, rows=w.rows), err=True)
