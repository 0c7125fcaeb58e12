"""No network, inputs untouched (DESIGN §9.4): the suite's guard fires, and an audit changes no byte of its inputs."""

from __future__ import annotations

import hashlib
import shutil
import socket
import stat
import threading
from pathlib import Path

import pytest

from auditor.cli.main import main
from tests.conftest import SAMPLES


def test_the_network_guard_fails_a_test_that_opens_an_internet_socket() -> None:
    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routed anyway
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(AssertionError):
        sock.connect(("2001:db8::1", 443, 0, 0))


def test_the_network_guard_lets_loopback_through() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        accepted = threading.Thread(target=lambda: server.accept()[0].close())
        accepted.start()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        accepted.join(timeout=5)


def _state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, mtime (ns) and mode of every file and folder under ``folder``."""
    state = {}
    for path in sorted(folder.rglob("*")):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[str(path.relative_to(folder))] = (digest, info.st_mtime_ns, info.st_mode)
    return state


@pytest.mark.parametrize("command", ["audit", "ingest"])
def test_inputs_are_not_modified(command: str, tmp_path: Path) -> None:
    inputs = tmp_path / "exports"
    shutil.copytree(SAMPLES, inputs)
    before = _state(inputs)
    with pytest.raises(SystemExit) as leaving:
        main([command, str(inputs), "--out", str(tmp_path / "out")])
    assert leaving.value.code in (0, None)
    assert _state(inputs) == before
    written = list((tmp_path / "out").rglob("*"))
    assert written
    for path in written:  # and what it wrote is its user's only
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0 and (path.is_dir() or mode == 0o600), (path, oct(mode))
