"""`auditor check-response REPLY... --sent DATE --out DIR`: is the employer's reply to an access request
complete? Writes an itemised reminder and a draft CNIL complaint."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from auditor import api
from auditor.cli.common import stderr_console
from auditor.cli.main import cli
from auditor.i18n import current_lang, t
from auditor.io.output import ensure_dir, write_text
from auditor.policy import load_policy
from auditor.report import response
from auditor.report.letter import ITEMS


def parse_items(text: str) -> list[str]:
    items = [part.strip().lower() for part in text.split(",") if part.strip()]
    for item in items:
        if item not in (*ITEMS, *response.OTHER_ITEMS):
            raise click.BadParameter(t("response.item_unknown", None, item=item), param_hint="--answered")
    return items


@cli.command("check-response")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tool", "tools", multiple=True, metavar="TOOL",
              help="Outil visé par la demande, s'il n'apparaît pas dans les fichiers / tool the request was about.")
@click.option("--sent", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]), default=None,
              help="Date d'envoi de la demande / date the request was sent.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]), default=None,
              help="Date du jour (défaut : aujourd'hui) / today's date.")
@click.option("--answered", default="", metavar="a,b,…,copy,logs",
              help="Points auxquels la lettre de réponse a répondu / items the reply letter answered.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Déclaration jointe à la réponse (YAML) / declaration that came with the reply.")
@click.option("--name", default=None, help="Votre nom pour la signature / your name for the signature.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de sortie / output folder.")
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Fuseau des heures sans fuseau.")
def check_response(paths: tuple[Path, ...], tools: tuple[str, ...], sent: object, today: object, answered: str,
                   policy_file: Path | None, name: str | None, out: Path, timezone: str) -> None:
    """Vérifier la réponse de l'employeur / check the employer's reply to an access request.

    Exemple / example:  auditor check-response reponse/ --tool esirius --sent 2026-09-01 --answered a,c --out suite/
    """
    lang = current_lang()
    items = parse_items(answered)
    dataset = api.load(list(paths), api.ReadOptions(timezone=timezone))
    if not response.resolve_sheets(dataset, tools):
        raise click.UsageError(t("response.no_tool", None))
    sent_day = sent.date() if sent is not None else None  # type: ignore[attr-defined]
    today_day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    policy = load_policy(policy_file) if policy_file else None
    result = response.review(dataset, tools, policy, items, sent_day, today_day, lang)
    ensure_dir(out)
    write_text(out / "reminder.md", response.reminder(result, lang, sent_day, name))
    write_text(out / "cnil-complaint.md", response.complaint(result, lang, sent_day, name))
    stderr_console().print(t("response.summary", None, gaps=len(result.gaps), items=len(result.items_missing),
                             late=t("response.summary_late", None) if result.late else "",
                             reminder=str(out / "reminder.md"), complaint=str(out / "cnil-complaint.md")))
