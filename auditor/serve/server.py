"""Run the application with uvicorn on a loopback socket we bind ourselves.

Binding here (not in uvicorn) lets us refuse any other interface before a socket exists, pick a free
port, and know the real port before the application (whose Host check needs it) is built. Uvicorn's
access log is off: it would write the secret token and file names to the terminal.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette

from auditor.serve.app import create_app
from auditor.serve.sessions import SessionStore
from auditor.serve.uploads import Limits

LOOPBACK_NAMES = {"127.0.0.1": socket.AF_INET, "localhost": socket.AF_INET, "::1": socket.AF_INET6}


class NotLoopback(ValueError):
    """Asked to listen on an interface other than this computer's loopback."""


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on loopback only; ``port=0`` picks a free port."""
    family = LOOPBACK_NAMES.get(host)
    if family is None:
        raise NotLoopback(host)
    address = "127.0.0.1" if host == "localhost" else host
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((address, port))
        if not ipaddress.ip_address(sock.getsockname()[0]).is_loopback:  # belt and braces
            raise NotLoopback(host)
        sock.listen(64)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass
class LocalServer:
    """One served application: its socket, its secret token, its sessions (deleted on stop)."""

    sock: socket.socket
    lang: str = "fr"
    limits: Limits | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    store: SessionStore = field(init=False)
    app: Starlette = field(init=False)
    server: uvicorn.Server = field(init=False)
    thread: threading.Thread | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.store = SessionStore(lang=self.lang)
        self.app = create_app(self.token, self.port, lang=self.lang, limits=self.limits, store=self.store)
        config = uvicorn.Config(self.app, access_log=False, log_level="warning", server_header=False,
                                proxy_headers=False, lifespan="on")
        self.server = uvicorn.Server(config)

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = self.sock.getsockname()[0]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/?token={self.token}"

    def run(self) -> None:
        """Serve until Ctrl-C (uvicorn handles the signal) or ``stop``; then delete every session's files."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.store.close()
            self.sock.close()

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (tests, embedding); ``stop`` then ``thread.join()`` end it."""
        self.thread = threading.Thread(target=self.run, name="auditor-serve", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        self.server.should_exit = True
