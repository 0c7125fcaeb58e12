"""Progress on stderr with rich: shown only on a terminal, silent in pipes and CI."""

from __future__ import annotations

from types import TracebackType

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from auditor.cli.common import stderr_console


class RowProgress:
    """Rows read per file; appears after a second so quick runs stay quiet."""

    def __init__(self) -> None:
        console = stderr_console()
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} lignes / rows"),
            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RowProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(kind, value, tb)

    def advance(self, name: str, rows: int) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=None)
        self._progress.advance(self._tasks[name], rows)
