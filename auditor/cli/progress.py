"""Progress on stderr with rich: shown only on a terminal, silent in pipes and CI.

``advance(name, rows)`` counts rows read per file (``api.load`` / ``api.ingest`` take it as ``progress``);
``step(text)`` names the stage under way (``engine.audit`` takes it as ``progress``): a year of exports
spends minutes in metrics, and a silent terminal looks like a hang.
"""

from __future__ import annotations

from types import TracebackType

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from auditor.cli.common import stderr_console
from auditor.i18n import t


class RowProgress:
    """Rows read per file; appears after a second so quick runs stay quiet."""

    def __init__(self) -> None:
        console = stderr_console()
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, int] = {}
        self._step: TaskID | None = None

    def __enter__(self) -> RowProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(kind, value, tb)

    def advance(self, name: str, rows: int) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=None, count="")
        self._counts[name] = self._counts.get(name, 0) + rows
        shown = f"{self._counts[name]:,}".replace(",", "\u202f")
        self._progress.update(self._tasks[name], count=t("progress.rows", None, rows=shown))

    def step(self, text: str) -> None:
        """Show ``text`` as the stage under way (one line, replaced by the next step)."""
        if self._step is None:
            self._step = self._progress.add_task(text, total=None, count="")
        else:
            self._progress.update(self._step, description=text)
