"""Browser sessions: each one owns a private folder (mode 0700) that disappears when the session ends,
expires, or the server stops — uploaded exports are personal data and must not outlive their use."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.i18n import DEFAULT_LANG

if TYPE_CHECKING:
    from auditor.serve.work import Job, Workspace

IDLE_SECONDS = 4 * 3600


@dataclass
class Session:
    """One browser: its cookie id, its CSRF token, its language, its files and its current work."""

    id: str
    csrf: str
    folder: Path
    lang: str = DEFAULT_LANG
    seen: float = field(default_factory=time.monotonic)
    workspace: Workspace | None = None
    job: Job | None = None
    notice: str = ""  # said once on the next page (a file set aside as too large, a missing choice)

    def new_folder(self, name: str) -> Path:
        """A fresh owner-only sub-folder (uploads, outputs) that cannot collide with an earlier one."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.folder))


class SessionStore:
    """Sessions by id under one private root folder, created lazily and removed by ``close``."""

    def __init__(self, lang: str = DEFAULT_LANG, idle_seconds: float = IDLE_SECONDS) -> None:
        self.lang = lang
        self.idle_seconds = idle_seconds
        self._root: Path | None = None
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="auditor-serve-"))  # mode 0700 by contract
            return self._root

    def create(self) -> Session:
        root = self.root
        session_id = secrets.token_urlsafe(32)
        folder = Path(tempfile.mkdtemp(prefix="session-", dir=root))
        session = Session(id=session_id, csrf=secrets.token_urlsafe(32), folder=folder, lang=self.lang)
        with self._lock:
            self._sessions[session_id] = session
        self.expire()
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return None
        if time.monotonic() - session.seen > self.idle_seconds:
            self.end(session)
            return None
        session.seen = time.monotonic()
        return session

    def end(self, session: Session) -> None:
        """Forget the session and delete its files (a running job then fails quietly)."""
        with self._lock:
            self._sessions.pop(session.id, None)
        shutil.rmtree(session.folder, ignore_errors=True)

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self._sessions.values() if now - s.seen > self.idle_seconds]
        for session in idle:
            self.end(session)

    def close(self) -> None:
        """End every session and remove the root folder: called when the server stops."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
            root, self._root = self._root, None
        for session in sessions:
            shutil.rmtree(session.folder, ignore_errors=True)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
