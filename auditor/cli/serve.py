"""`auditor serve [--port N] [--no-browser]`: the local web page, for people who never open a terminal."""

from __future__ import annotations

import contextlib
import os
import sys
import webbrowser

import click

from auditor.cli.main import cli
from auditor.i18n import current_lang, t

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@cli.command()
@click.option("--port", default=0, type=click.IntRange(0, 65535), metavar="N",
              help="Port local (défaut : un port libre) / local port (default: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Seulement 127.0.0.1, ::1 ou localhost / loopback only.")
@click.option("--no-browser", is_flag=True, help="Ne pas ouvrir le navigateur / do not open the browser.")
def serve(port: int, host: str, no_browser: bool) -> None:
    """Page web locale : déposer des exports, lire et télécharger les rapports / a local web page.

    Le serveur n'écoute que sur cet ordinateur ; l'adresse affichée contient un jeton secret.
    The server listens on this computer only; the address shown holds a secret token.

    Exemple / example:  auditor serve   ·   auditor serve --port 8765 --no-browser
    """
    from auditor.serve.server import LocalServer, bind_loopback  # uvicorn is loaded only when serving

    if host not in LOOPBACK:
        raise click.BadParameter(t("serve.host_refused", None, host=host), param_hint="--host")
    try:
        sock = bind_loopback(host, port)
    except OSError as error:
        raise click.ClickException(t("serve.port_busy", None, port=port, detail=error.strerror or error)) from None
    server = LocalServer(sock, lang=current_lang())
    click.echo(t("serve.started", None), err=True)
    click.echo(server.url)
    if not no_browser and not _opens_browser(server.url):
        click.echo(t("serve.open_yourself", None), err=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled, once stopped
        server.run()
    click.echo(t("serve.stopped", None), err=True)


def _opens_browser(url: str) -> bool:
    """Open the default browser; on a Linux without a display, do not (it would be a console browser
    taking over this terminal) and let the user open the address."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return webbrowser.open(url)
