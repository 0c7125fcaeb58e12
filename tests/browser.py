"""Headless Chromium for browser tests: Debian's `chromium` driven by Playwright, never a downloaded browser.

Tests that need it take the ``browser`` fixture (tests/conftest.py). Without Chromium they skip, unless
``AUDITOR_REQUIRE_BROWSER=1`` (set by `.ci/run`, which installs Chromium when absent): then they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_path() -> Path | None:
    """Debian's Chromium, or the one named by $AUDITOR_CHROMIUM."""
    named = os.environ.get("AUDITOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(named) if named and Path(named).exists() else None


def browser_required() -> bool:
    return os.environ.get("AUDITOR_REQUIRE_BROWSER") == "1"


SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
