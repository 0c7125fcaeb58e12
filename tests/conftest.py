"""Shared test set-up: hypothesis profiles, the real third-party exports, no network."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
REAL_EXPORTS = ROOT.parent / "shared" / "real_exports"

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def real_exports(family: str) -> list[Path]:
    """The real files of one family in ../shared/real_exports, or a clean skip when absent."""
    folder = REAL_EXPORTS / family
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (real third-party exports are not part of the repository)")
    return sorted(p for p in folder.iterdir() if p.is_file())


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing ever touches the network: connecting or sending to anything but loopback fails the test."""

    def is_loopback(address: object) -> bool:
        host = address[0] if isinstance(address, tuple) else None
        return host in ("127.0.0.1", "::1", "localhost")

    def guard(name: str) -> None:
        real = getattr(socket.socket, name)

        def guarded(self: socket.socket, *args: object) -> object:
            address = args[-1] if name == "sendto" else args[0]
            if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
                raise AssertionError(f"a test tried to open a network connection to {address!r} ({name})")
            return real(self, *args)

        monkeypatch.setattr(socket.socket, name, guarded)

    for name in ("connect", "connect_ex", "sendto"):
        guard(name)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """A headless Chromium (Playwright) shared by the session's browser tests."""
    from tests.browser import CHROMIUM_ARGS, browser_required, chromium_path

    executable = chromium_path()
    if executable is None:
        if browser_required():
            pytest.fail("Chromium is required (AUDITOR_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
