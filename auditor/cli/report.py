"""`auditor report PATH... --agent ID --out FILE`: one personal report (format from the extension)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api
from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.io.output import write_text
from auditor.policy import load_policy
from auditor.report import personal, render
from auditor.rules.engine import audit as run_audit


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--agent", "agent", required=True, metavar="ID", help="L'agent concerné / the agent.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Fichier .html, .md ou .json / output file.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Fuseau des heures sans fuseau.")
def report(paths: tuple[Path, ...], agent: str, out: Path, policy_file: Path | None, timezone: str) -> None:
    """Rapport personnel d'un agent / one agent's personal report.

    Exemple / example:  auditor report exports/ --agent bdubois --out mon-rapport.html
    """
    fmt = render.format_of(out)
    if fmt not in render.FORMATS:
        raise click.BadParameter(t("report.format_unknown", None, fmt=fmt), param_hint="--out")
    dataset = api.load(list(paths), api.ReadOptions(timezone=timezone))
    if agent not in dataset.agents():
        raise click.BadParameter(t("report.agent_unknown", None, agent=agent), param_hint="--agent")
    result = run_audit(dataset, load_policy(policy_file) if policy_file else None)
    write_text(out, render.render(personal.build(dataset, result, agent, current_lang()), fmt))
    click.echo(str(out))
