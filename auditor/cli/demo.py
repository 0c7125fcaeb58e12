"""`auditor demo`: synthetic exports, then the whole pipeline on them; prints where the results are."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from auditor import api
from auditor.cli.audit import audit
from auditor.cli.main import cli
from auditor.i18n import t
from auditor.io.output import write_text
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
    world = World(seed=seed)
    written = write_exports(exports, world)
    click.echo(t("demo.synth", None, count=len(written), path=str(exports)), err=True)
    result = api.ingest([exports], out / "workspace")
    rows = sum(p.rows_parsed for p in result.provenance)
    rejected = sum(p.rows_rejected for p in result.provenance)
    click.echo(t("demo.ingest", None, rows=rows, rejected=rejected, path=str(result.out)), err=True)
    reports = out / "reports"
    policy = out / "policy.yaml"
    write_text(policy, yaml.safe_dump(world.policy(), allow_unicode=True, sort_keys=False))
    click.get_current_context().invoke(
        audit, paths=(exports,), out=reports, policy_file=policy, k=5, only=(), fmt="html,md,json", fail_on=None,
        key_file=None, timezone="Europe/Paris",
    )
    click.echo(t("demo.reports", None, committee=str(reports / "index.html"), agents=str(reports / "agents")),
               err=True)
    click.echo(str(out.resolve()))
