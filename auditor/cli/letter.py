"""`auditor letter --tool NAME --out FILE`: the access-request letter for one tool."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.io.output import write_text
from auditor.report.letter import letter as make_letter
from auditor.report.letter import tool_kinds
from auditor.schemas import KINDS


@cli.command()
@click.option("--tool", "tool", required=True, metavar="NAME", help="Produit ou outil (esirius, qmatic, kelio…).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Données concernées si l'outil est inconnu / data kind when the tool is unknown.")
@click.option("--name", "name", default=None, help="Votre nom, pour signer / your name, to sign.")
@click.option("--out", "out", default="-", show_default=True, help="Fichier .md ou - / file or -.")
def letter(tool: str, kinds: tuple[str, ...], name: str | None, out: str) -> None:
    """Lettre de demande d'accès (RGPD art. 15) / access-request letter (GDPR art. 15).

    Exemple / example:  auditor letter --tool esirius --name "Camille Martin" --out lettre.md
    """
    lang = current_lang()
    product, sheet_kinds, capabilities = tool_kinds(tool)
    chosen = kinds or sheet_kinds
    if not chosen:
        raise click.BadParameter(t("letter.tool_unknown", None, tool=tool), param_hint="--tool")
    text = make_letter([(product, kind) for kind in chosen], lang, name=name,
                       not_given=[c[lang] for c in capabilities])
    if out == "-":
        click.echo(text, nl=False)
    else:
        write_text(Path(out), text)
