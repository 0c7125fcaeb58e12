"""The local server's defences, over real HTTP on loopback: token, Host, same-origin POSTs, CSRF, headers,
size limits, private files deleted on stop, loopback only."""

from __future__ import annotations

import ipaddress
import stat

import pytest
from click.testing import CliRunner

from auditor.cli.main import _load_commands, cli
from auditor.serve.security import PAGE_CSP
from auditor.serve.server import LocalServer, NotLoopback, bind_loopback
from tests.conftest import SAMPLES
from tests.serve.conftest import LIMITS, Client, start

BADGES = SAMPLES / "badge-csv.csv"


def test_without_the_token_every_path_is_refused(server: LocalServer) -> None:
    stranger = Client(server.port)
    for path in ("/", "/status", "/report", "/files/0", "/static/style.css", "/?token=wrong"):
        reply = stranger.get(path)
        assert reply.status == 403, path
        assert "token" in reply.text
    assert stranger.request("POST", "/upload", b"", {"Origin": stranger.origin}).status == 403


def test_the_token_sets_a_strict_httponly_cookie_and_leaves_the_address(server: LocalServer) -> None:
    client = Client(server.port)
    reply = client.get(f"/?token={server.token}&lang=en")
    assert reply.status == 303
    assert reply.headers["location"] == "/?lang=en"
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/")
    assert page.status == 200 and '<html lang="en">' in page.text
    assert server.token not in page.text
    session = dict(client.cookies)
    again = client.get(f"/?token={server.token}")  # the address opened again: same session, token dropped
    assert again.status == 303 and again.headers["location"] == "/" and client.cookies == session
    assert client.get("/?token=wrong").status == 403


def test_a_foreign_host_header_is_refused_even_with_the_cookie(server: LocalServer, client: Client) -> None:
    for host in ("evil.example", f"evil.example:{server.port}", f"127.0.0.1:{server.port + 1}", ""):
        assert client.get("/", Host=host).status == 400, host
    assert client.get(f"/?token={server.token}", Host=f"rebound.example:{server.port}").status == 400
    assert client.get("/", Host=f"localhost:{server.port}").status == 200


def test_cross_site_posts_are_refused(server: LocalServer, client: Client) -> None:
    csrf = client.csrf()
    sample = [("files", BADGES.name, BADGES.read_bytes())]
    assert client.post_form("/upload", {"csrf": "forged"}, sample).status == 403
    assert client.post_form("/upload", {}, sample).status == 403
    assert client.post_form("/upload", {"csrf": csrf}, sample, {"Origin": "http://evil.example"}).status == 403
    # Another server on this computer is "same-site" (ports do not count), and its pages still are foreign:
    other = {"Origin": f"http://127.0.0.1:{server.port + 1}", "Sec-Fetch-Site": "same-site"}
    assert client.post_form("/upload", {"csrf": csrf}, sample, other).status == 403
    null = {"Origin": "null", "Sec-Fetch-Site": "cross-site"}
    assert client.post_form("/upload", {"csrf": csrf}, sample, null).status == 403
    assert client.post_form("/upload", {"csrf": csrf}, sample, {"Origin": "null", "Sec-Fetch-Site": ""}).status == 403
    assert client.post_form("/upload", {"csrf": csrf}, sample, {"Sec-Fetch-Site": "cross-site"}).status == 403
    for path in ("/run", "/end"):
        form = b"csrf=forged&mode=committee"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": client.origin}
        assert client.request("POST", path, form, headers).status == 403, path
    assert not any((server.store.root).rglob("*.csv")), "a refused upload left a file behind"
    assert client.post_form("/upload", {"csrf": csrf}, sample).status == 303
    client.wait_done()
    # What Chromium sends from the page itself under Referrer-Policy: no-referrer:
    same = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post_form("/upload", {"csrf": csrf}, sample, same).status == 303


def test_security_headers_on_every_response_and_no_cors(server: LocalServer, client: Client) -> None:
    replies = [client.get("/", Origin="http://evil.example"), client.get("/static/style.css"),
               Client(server.port).get("/"), client.get("/nowhere")]
    for reply in replies:
        assert reply.headers["content-security-policy"] == PAGE_CSP
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["cross-origin-resource-policy"] == "same-origin"
        assert not [name for name in reply.headers if name.lower().startswith("access-control-")]
    assert "default-src 'none'" in PAGE_CSP and "frame-ancestors 'self'" in PAGE_CSP


def test_a_file_over_the_limit_is_refused_in_plain_words(server: LocalServer, client: Client) -> None:
    csrf = client.csrf()
    big = b"x" * (LIMITS.file_bytes + 1)
    reply = client.post_form("/upload", {"csrf": csrf}, [("files", "huge.log", big)])
    assert reply.status == 413
    assert "huge.log" in reply.text and str(LIMITS.file_bytes // 2**20) in reply.text
    too_much = [("files", f"part{i}.log", b"y" * (LIMITS.file_bytes - 10)) for i in range(5)]
    reply = client.post_form("/upload", {"csrf": csrf}, too_much)
    assert reply.status == 413 and "rien n'a été gardé" in reply.text
    assert not [p for p in server.store.root.rglob("*") if p.is_file()]
    mixed = [("files", "empty.csv", b""), ("files", BADGES.name, BADGES.read_bytes()), ("files", "huge.log", big)]
    assert client.post_form("/upload", {"csrf": csrf}, mixed).status == 303
    client.wait_done()
    page = client.get("/").text
    assert "huge.log" in page and "72 heure(s) sans fuseau" in page
    assert [p.name for p in server.store.root.rglob("*") if p.is_file()] == [BADGES.name]


def test_files_are_private_and_gone_after_stop() -> None:
    served = LocalServer(bind_loopback(), limits=LIMITS)
    start(served)
    client = Client(served.port)
    client.login(served.token)
    assert client.post_form("/upload", {"csrf": client.csrf()}, [("files", BADGES.name, BADGES.read_bytes())]
                            ).status == 303
    client.wait_done()
    root = served.store.root
    kept = [p for p in root.rglob("*") if p.is_file()]
    assert [p.name for p in kept] == [BADGES.name]
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in root.rglob("*") if p.is_dir())
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    served.stop()
    assert served.thread is not None
    served.thread.join(10)
    assert not root.exists()


def test_ending_the_session_deletes_its_files(server: LocalServer, client: Client) -> None:
    csrf = client.csrf()
    client.post_form("/upload", {"csrf": csrf}, [("files", BADGES.name, BADGES.read_bytes())])
    client.wait_done()
    assert [p for p in server.store.root.rglob("*") if p.is_file()]
    reply = client.request("POST", "/end", f"csrf={csrf}".encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", "Origin": client.origin})
    assert reply.status == 200 and "effacés" in reply.text
    assert not [p for p in server.store.root.rglob("*") if p.is_file()]
    assert client.get("/").status == 403


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", ""])
def test_only_loopback_can_be_bound(host: str) -> None:
    with pytest.raises(NotLoopback):
        bind_loopback(host, 0)


@pytest.mark.parametrize(("host", "address"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"),
                                               ("::1", "::1")])
def test_the_bound_socket_is_loopback(host: str, address: str) -> None:
    try:
        sock = bind_loopback(host, 0)
    except OSError:
        pytest.skip(f"{host} cannot be bound on this machine (no IPv6?)")
    try:
        assert sock.getsockname()[0] == address
        assert ipaddress.ip_address(sock.getsockname()[0]).is_loopback
    finally:
        sock.close()


def test_the_command_refuses_another_interface() -> None:
    _load_commands()
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--no-browser"], env={"AUDITOR_LANG": "en"})
    assert result.exit_code == 2
    assert "only listens on this computer" in result.output and "0.0.0.0" in result.output
