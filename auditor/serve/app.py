"""The Starlette application of `auditor serve`: routes, the guard in front, cleanup when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from auditor.serve import forms, pages, uploads
from auditor.serve.security import Guard, cookie_name
from auditor.serve.sessions import SessionStore

HERE = Path(__file__).parent


def create_app(token: str, port: int, *, lang: str = "fr", limits: uploads.Limits | None = None,
               store: SessionStore | None = None) -> Starlette:
    """The application for a server listening on 127.0.0.1:``port``, opened with ``?token=``."""
    store = store or SessionStore(lang=lang)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep(store))
        try:
            yield
        finally:
            sweeper.cancel()
            store.close()  # the server stops: every uploaded file and report goes

    routes = [
        Route("/", pages.index), Route("/status", pages.status), Route("/report", pages.report),
        Route("/formats", pages.formats),
        Route("/files/{index:int}", pages.output), Route("/files/{index:int}/download", pages.output),
        Route("/upload", forms.upload, methods=["POST"]), Route("/policy", forms.policy, methods=["POST"]),
        Route("/run", forms.run, methods=["POST"]), Route("/pdf", forms.make_pdf, methods=["POST"]),
        Route("/end", forms.end, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.limits = limits or uploads.Limits()
    app.state.store = store
    app.state.cookie = cookie_name(port)
    app.add_middleware(Guard, token=token, port=port, store=store)
    return app


async def _sweep(store: SessionStore, every: float = 300) -> None:
    """Delete the files of sessions left idle, even if nobody visits the page again."""
    while True:
        await asyncio.sleep(every)
        store.expire()
