"""The C allocator is set for block-sized buffers only while a read runs, and put back after it."""

from __future__ import annotations

import pytest

from auditor.io import allocator


def test_thresholds_are_set_during_a_read_and_put_back_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    calls: list[str] = []
    monkeypatch.setattr(allocator, "_restore", lambda: calls.append("restore"))
    with allocator.streaming():
        with allocator.streaming():  # a read inside a read (load -> ingest), or two side by side
            pass
        assert calls == []
    assert calls == ["restore"]


def test_the_users_own_setting_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    monkeypatch.setattr(allocator, "_done", False)
    assert allocator.tune_for_streaming() is False
    with allocator.streaming():
        assert allocator._done is False
