"""`auditor audit PATH... --out DIR`: committee report, one personal report and letter per agent, findings."""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api, privacy
from auditor.cli.common import stderr_console
from auditor.cli.main import EXIT_FINDINGS, EXIT_OK, cli
from auditor.cli.progress import RowProgress
from auditor.i18n import current_lang, t
from auditor.policy import load_policy
from auditor.report import pdf, render
from auditor.report.people import find, people
from auditor.report.write import Options, write_all
from auditor.rules.engine import audit as run_audit
from auditor.rules.model import SEVERITIES


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    for fmt in formats:
        if fmt not in render.ALL_FORMATS:
            raise click.BadParameter(t("report.format_unknown", None, fmt=fmt), param_hint="--format")
    if "pdf" in formats and not pdf.available():
        raise click.BadParameter(t("report.pdf_unavailable", None, detail="weasyprint"), param_hint="--format")
    return formats or render.FORMATS


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Dossier de sortie / output folder.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Déclaration de l'employeur (YAML) / employer's declaration.")
@click.option("--k", "k", default=privacy.DEFAULT_K, show_default=True, type=click.IntRange(2, 1000),
              help="Plus petit groupe montré au comité / smallest group shown to the committee.")
@click.option("--agent", "only", multiple=True, metavar="ID",
              help="Rapports personnels de ces personnes seulement (nom déclaré ou identifiant) / "
                   "personal reports for these people only (declared name or identifier).")
@click.option("--format", "fmt", default="html,md,json", show_default=True, help="html,md,json,pdf")
@click.option("--fail-on", "fail_on", type=click.Choice(SEVERITIES), default=None,
              help="Code 1 si un constat atteint cette gravité / exit 1 when a finding reaches it.")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Clé des pseudonymes (défaut : DIR/pseudonym.key) / pseudonym key file.")
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Fuseau des heures sans fuseau.")
@click.option("--raw-identifiers", is_flag=True, default=False,
              help="Montrer au comité les identifiants réels à côté des pseudonymes (à éviter) / "
                   "show real identifiers beside pseudonyms in the committee report (avoid).")
def audit(paths: tuple[Path, ...], out: Path, policy_file: Path | None, k: int, only: tuple[str, ...], fmt: str,
          fail_on: str | None, key_file: Path | None, timezone: str, raw_identifiers: bool = False) -> int:
    """Audit complet : rapport du comité, rapports personnels, lettres / full audit.

    Exemple / example:  auditor audit exports/ --out rapports/ --k 5 --fail-on high
    """
    formats = parse_formats(fmt)
    policy = load_policy(policy_file) if policy_file else None
    key = privacy.load_or_create_key(key_file or out / "pseudonym.key")  # a bad key refused before a long read
    with RowProgress() as progress:
        dataset = api.load(list(paths), api.ReadOptions(timezone=timezone), progress=progress.advance)
        result = run_audit(dataset, policy, progress=progress.step)
        everyone = people(dataset, result.policy)
        for agent in only:
            if find(everyone, agent) is None:
                raise click.BadParameter(t("report.agent_unknown", None, agent=agent), param_hint="--agent")
        options = Options(lang=current_lang(), k=k, formats=formats, key=key, raw_identifiers=raw_identifiers)
        progress.step(t("progress.reports", None, n=len(only) if only else len(everyone)))
        written = write_all(dataset, result, out, options, agents=sorted(only) if only else None,
                            progress=progress.step)
    stderr_console().print(t("report.written", None, count=len(written), path=str(out)))
    if fail_on and result.reaches(fail_on):
        stderr_console().print(t("report.fail_on", None, severity=t(f"severity.{fail_on}")))
        return EXIT_FINDINGS
    return EXIT_OK
