"""The `auditor` command: a click group whose commands live one per module in auditor/cli/.

Exit codes (DESIGN §8): 0 ok; 1 findings at or above --fail-on; 2 usage or input error; 3 internal
error (a bug, and the message says so). Data goes to stdout, messages and progress to stderr.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback

import click

from auditor import __version__
from auditor.errors import AuditorError, actionable
from auditor.i18n import LANGUAGES, t
from auditor.rules.yamlsafe import DocumentError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="auditor")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, envvar="AUDITOR_LANG",
              help="Langue des messages et rapports / language of messages and reports (fr, en).")
def cli(lang: str | None) -> None:
    """auditor — ce que les outils de suivi conservent sur les agents, lu hors ligne.

    auditor — what monitoring tools keep about agents, read offline.

    Exemple / example:  auditor detect exports/   ·   auditor demo
    """
    if lang:
        os.environ["AUDITOR_LANG"] = lang


def _load_commands() -> None:
    import auditor.cli as package

    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name not in ("main", "common", "progress"):
            importlib.import_module(f"auditor.cli.{module.name}")


def main(argv: list[str] | None = None) -> None:
    _load_commands()
    try:
        code = cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except AuditorError as error:
        click.echo(t("cli.error", None, message=error.render()), err=True)
        sys.exit(EXIT_USAGE)
    except DocumentError as error:  # a policy or rule file the user wrote: every problem, with its line
        click.echo(t("cli.error", None, message=t("policy.invalid") + "\n" + str(error)), err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(EXIT_USAGE)
    except Exception as error:
        known = actionable(error)  # not a bug: the user can act on it
        if known is not None:
            click.echo(t("cli.error", None, message=known.render()), err=True)
            sys.exit(EXIT_USAGE)
        click.echo(t("cli.bug"), err=True)
        traceback.print_exc(file=sys.stderr)
        sys.exit(EXIT_BUG)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
