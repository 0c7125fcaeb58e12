"""Sessions: private folders, idle expiry, everything removed on close."""

from __future__ import annotations

import stat

from auditor.serve.sessions import SessionStore


def test_an_idle_session_expires_with_its_files() -> None:
    store = SessionStore(idle_seconds=3600)
    session = store.create()
    (session.new_folder("upload") / "export.csv").write_text("agent;heure\n", encoding="utf-8")
    assert stat.S_IMODE(session.folder.stat().st_mode) == 0o700
    assert store.get(session.id) is session
    store.idle_seconds = -1  # every session is now idle for longer than allowed
    assert store.get(session.id) is None
    assert not session.folder.exists()
    store.close()


def test_close_removes_the_root_and_every_session() -> None:
    store = SessionStore()
    first, second = store.create(), store.create()
    assert first.csrf != second.csrf and first.id != second.id
    root = store.root
    store.close()
    assert not root.exists() and store.get(first.id) is None
