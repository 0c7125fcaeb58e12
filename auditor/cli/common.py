"""Options and helpers shared by several commands (one decorator per shared option)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option(
        "--format", "fmt", type=click.Choice(choices or ("table", "json")), default=(choices or ("table",))[0],
        show_default=True, help="Forme de la sortie / output form.",
    )


def read_options(function: F) -> F:
    """--timezone, --agent, --parser: how inputs are read."""
    function = click.option("--parser", default=None, metavar="NAME",
                            help="Forcer un lecteur (voir `auditor parsers list`) / force a parser.")(function)
    function = click.option("--agent", default=None, metavar="ID",
                            help="Identifiant de l'agent quand le format n'en a pas / agent when the format has none.")(
        function
    )
    function = click.option("--timezone", default="Europe/Paris", show_default=True,
                            help="Fuseau des heures sans fuseau / zone of naive times.")(function)
    return function


def stderr_console() -> Console:
    """Messages and progress: stderr only, silent colours when not a terminal or NO_COLOR is set."""
    return Console(stderr=True, highlight=False)


def echo_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
