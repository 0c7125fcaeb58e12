"""The C allocator is set for block-sized buffers only while a read or an audit runs, and put back after it;
one arena for the process unless the user chose otherwise."""

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


class _Libc:
    """libc as ctypes shows it: ``mallopt`` a function whose argument types can be set."""

    def __init__(self, calls: list[tuple[int, int]]) -> None:
        def mallopt(option: int, value: int) -> int:
            calls.append((option, value))
            return 1

        self.mallopt = mallopt


@pytest.mark.parametrize("users_setting", [None, "4"])
def test_one_arena_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch, users_setting: str | None) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr("ctypes.CDLL", lambda _name: _Libc(calls))
    monkeypatch.setattr("os.confstr", lambda _name: "glibc 2.36")
    if users_setting is None:
        monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    else:
        monkeypatch.setenv("MALLOC_ARENA_MAX", users_setting)
    allocator.single_arena()
    assert calls == ([] if users_setting else [(allocator.M_ARENA_MAX, 1)])
