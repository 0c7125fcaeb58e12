"""A real `auditor serve` on loopback in a thread, and a tiny cookie-keeping HTTP client (http.client:
httpx, which starlette's TestClient needs, is not installed)."""

from __future__ import annotations

import html
import http.client
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from auditor.serve.server import LocalServer, bind_loopback
from auditor.serve.uploads import Limits

LIMITS = Limits(file_bytes=1024 * 1024, total_bytes=4 * 1024 * 1024)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return html.unescape(self.body.decode("utf-8"))


@dataclass
class Client:
    """Requests to the server with the cookie it set; headers may be overridden per request."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
        sent = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        finally:
            connection.close()
        for cookie in reply.headers.get_all("set-cookie") or []:
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name] = value.strip('"')
        return reply

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, headers=headers)

    def login(self, token: str) -> Reply:
        return self.get(f"/?token={token}")

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get("/").text)
        assert found, "the page has no CSRF field"
        return found.group(1)

    def post_form(self, path: str, fields: dict[str, str], files: list[tuple[str, str, bytes]] | None = None,
                  headers: dict[str, str] | None = None) -> Reply:
        """A multipart POST (files: field name, file name, content) from the page's own origin by default."""
        boundary = secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
                  for name, filename, content in files or []]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        sent = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": self.origin,
                "Sec-Fetch-Site": "same-origin"}
        sent.update(headers or {})
        return self.request("POST", path, body, sent)

    def wait_done(self) -> Reply:
        """Follow /status until the background work is over."""
        for _ in range(600):
            reply = self.get("/status")
            if reply.status != 200 or 'http-equiv="refresh"' not in reply.text:
                return reply
            time.sleep(0.1)
        raise AssertionError("the background work never finished")


def start(server: LocalServer) -> None:
    server.start_in_thread()
    for _ in range(200):
        if server.server.started:
            return
        time.sleep(0.05)
    raise AssertionError("the server did not start")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    served = LocalServer(bind_loopback(), limits=LIMITS)
    start(served)
    yield served
    served.stop()


@pytest.fixture
def client(server: LocalServer) -> Client:
    client = Client(server.port)
    assert client.login(server.token).status == 303
    return client


def multipart_files(paths: list[Path]) -> list[tuple[str, str, bytes]]:
    return [("files", path.name, path.read_bytes()) for path in paths]
