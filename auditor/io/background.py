"""Work done in order on a thread of its own, fed through a bounded queue: writing while the caller reads on.

pyarrow and numpy release the GIL in their heavy calls (encoding, sorting, copying, writing), so the thread's work
overlaps the caller's; at most ``depth`` items wait (bounded memory). An error of the work is raised in the
caller at its next call or at ``close``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, ClassVar, Generic, TypeVar

Item = TypeVar("Item")


class Background(Generic[Item]):
    """``work(item)`` for each item ``put``, in the order given, then ``finish()`` at ``close``."""

    _DONE: ClassVar[object] = object()

    def __init__(self, work: Callable[[Item], None], finish: Callable[[], None], *, depth: int, name: str) -> None:
        self._work, self._finish = work, finish
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closed = False
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._DONE:
            if self._error is None and not self._abandoned:
                try:
                    self._work(item)
                except BaseException as error:
                    self._error = error

    def put(self, item: Item) -> None:
        if self._error is not None or self._closed:
            self.close()
            raise RuntimeError("work given to a closed background writer")
        self._queue.put(item)

    def close(self) -> None:
        """Do what waits, stop the thread and ``finish`` (idempotent); raise the work's error."""
        if not self._closed:
            self._closed = True
            self._queue.put(self._DONE)
            self._thread.join()
            try:
                self._finish()
            except BaseException as closing:
                self._error = self._error or closing
        if self._error is not None:
            failed, self._error = self._error, None
            raise failed

    def abandon(self) -> None:
        """On an error elsewhere: drop what waits, stop the thread, ``finish``, raise nothing."""
        self._abandoned = True
        with suppress(BaseException):  # the error being handled is the one to report
            self.close()
