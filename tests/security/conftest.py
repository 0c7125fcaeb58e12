"""Security suite set-up: the ``fuzz`` marker and example budgets that grow with the hypothesis profile."""

from __future__ import annotations

import os

import pytest

#: How many times more examples the release-time profile runs (HYPOTHESIS_PROFILE=thorough).
THOROUGH_FACTOR = 20


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: bounded fuzzing of every parser (HYPOTHESIS_PROFILE=thorough for the long run)")


def thorough() -> bool:
    return os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def examples(ci: int) -> int:
    """``ci`` examples in CI and development, many more at release time."""
    return ci * THOROUGH_FACTOR if thorough() else ci
