"""The guard in front of every request of the local server (a pure ASGI middleware).

A page on another site can make the browser send requests to 127.0.0.1, so loopback alone is not enough:
the Host header must name this server (DNS rebinding), every request needs the session cookie or the
secret token printed at start (as notebook servers do), a POST must come from this origin, and every
response forbids framing by others, sniffing, referrers, caching and any external resource.
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.datastructures import URL, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auditor.i18n import LANGUAGES, t
from auditor.serve.sessions import SessionStore

PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
            "frame-ancestors 'self'; base-uri 'none'")
#: The reports carry their own inline style and no script; shown sandboxed in the page's frame.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "SAMEORIGIN",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
SAFE_METHODS = ("GET", "HEAD")


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def cookie_name(port: int) -> str:
    """Cookies are shared between ports of one host: name ours after the port so servers do not clash."""
    return f"auditor_session_{port}"


def refusal(key: str, status: int) -> Response:
    """A refusal in both languages: before a session exists, the page's language is unknown."""
    body = "\n\n".join(t(key, lang) for lang in LANGUAGES) + "\n"
    return PlainTextResponse(body, status_code=status)


class Guard:
    """Host check, token or cookie, same-origin POSTs, and the security headers on every response."""

    def __init__(self, app: ASGIApp, *, token: str, port: int, store: SessionStore) -> None:
        self.app = app
        self.token = token
        self.hosts = allowed_hosts(port)
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        self.cookie = cookie_name(port)
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = self.check(scope)
        if response is not None:
            await response(scope, receive, self.with_headers(send))
            return
        started = False
        sending = self.with_headers(send)

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await sending(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:  # a bug: its message could quote a row, so only its type is logged
            print(f"auditor serve: internal error {type(error).__name__}", file=sys.stderr)
            if not started:
                await refusal("serve.error.bug", 500)(scope, receive, sending)

    def check(self, scope: Scope) -> Response | None:
        """None when the request may go on (with ``scope["state"]["session"]`` set), else the refusal."""
        request = Request(scope)
        if request.headers.get("host", "") not in self.hosts:
            return refusal("serve.refused.host", 400)
        if request.method not in SAFE_METHODS and not self.same_origin(request):
            return refusal("serve.refused.origin", 403)
        session = self.store.get(request.cookies.get(self.cookie))
        supplied = request.query_params.get("token")
        if session is not None and supplied is None:
            scope.setdefault("state", {})["session"] = session
            return None
        if not supplied or not hmac.compare_digest(supplied.encode(), self.token.encode()):
            return refusal("serve.refused.token", 403)
        if request.method not in SAFE_METHODS:
            return refusal("serve.refused.token", 403)
        if session is None:  # the address opened again in the same browser keeps the session
            session = self.store.create()
        lang = request.query_params.get("lang", "")
        if lang in LANGUAGES:
            session.lang = lang
        # The token leaves the address bar at once; the cookie carries the session from now on.
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = URL(path=request.url.path, query=urlencode(rest))
        redirect = RedirectResponse(str(target), status_code=303)
        redirect.set_cookie(self.cookie, session.id, httponly=True, samesite="strict", path="/")
        return redirect

    def same_origin(self, request: Request) -> bool:
        """A POST must not say it comes from elsewhere: Origin, when sent, is ours, and so is Sec-Fetch-Site.

        Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` with a form POST, so "null" is
        accepted only together with ``Sec-Fetch-Site: same-origin`` (the CSRF token is checked anyway).
        """
        origin = request.headers.get("origin")
        site = request.headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            return False
        if origin == "null":
            return site == "same-origin"
        return origin is None or origin in self.origins

    @staticmethod
    def with_headers(send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = PAGE_CSP
                for name, value in HEADERS.items():
                    headers[name] = value
                for name in _cors(headers.keys()):
                    del headers[name]
            await send(message)

        return sending


def _cors(names: Iterable[str]) -> list[str]:
    return [name for name in names if name.lower().startswith("access-control-")]
