"""`auditor report PATH... --agent ID --out FILE`: one person's report (format from the extension).

ID is an identifier found in the inputs or a person's name in the declaration's identity map; the report
then gathers every identifier the declaration gives that person.
"""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api
from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.io.output import write_text
from auditor.policy import load_policy
from auditor.report import pdf, personal, render
from auditor.report.people import find, people
from auditor.report.write import write_view
from auditor.rules.engine import audit as run_audit


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--agent", "agent", required=True, metavar="ID",
              help="Identifiant ou nom déclaré de la personne / the person's identifier or declared name.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Fichier .html, .md, .json ou .pdf / output file.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Fuseau des heures sans fuseau.")
def report(paths: tuple[Path, ...], agent: str, out: Path, policy_file: Path | None, timezone: str) -> None:
    """Rapport personnel d'un agent / one agent's personal report.

    Exemple / example:  auditor report exports/ --agent bdubois --out mon-rapport.html
    """
    fmt = render.format_of(out)
    if fmt not in render.ALL_FORMATS:
        raise click.BadParameter(t("report.format_unknown", None, fmt=fmt), param_hint="--out")
    if fmt == "pdf" and not pdf.available():
        raise click.BadParameter(t("report.pdf_unavailable", None, detail="weasyprint"), param_hint="--out")
    dataset = api.load(list(paths), api.ReadOptions(timezone=timezone))
    result = run_audit(dataset, load_policy(policy_file) if policy_file else None)
    person = find(people(dataset, result.policy), agent)
    if person is None:
        raise click.BadParameter(t("report.agent_unknown", None, agent=agent), param_hint="--agent")
    view = personal.build(dataset, result, person, current_lang())
    write_view(view, out.with_suffix(""), [fmt]) if out.suffix.lower() == f".{fmt}" else write_text(
        out, render.render(view, fmt))
    click.echo(str(out))
