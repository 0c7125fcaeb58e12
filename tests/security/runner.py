"""Run many `auditor` command lines through the real CLI, each in its own forked, bounded process.

Starting the CLI costs seconds (pyarrow, DuckDB, every parser); the hostile corpus has well over a hundred
cases. So this script imports the CLI once, then forks one child per case: the child caps its address space
(``RLIMIT_AS``) and its run time (``alarm``), sends stdout/stderr to files and calls ``auditor.cli.main.main``
exactly as the console script does. The parent runs two at a time and records exit code (or killing signal),
peak RSS and wall time.

Usage: ``python -m tests.security.runner CASES.json RESULTS.json`` where CASES.json is a list of
``{"id": ..., "argv": [...]}``; RESULTS.json maps each id to ``{exit, signal, stderr, max_rss_mb, seconds}``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 2 << 30  # bytes of address space above what the parent already holds
TIME_LIMIT = 60  # seconds per case
STDERR_KEPT = 4000  # characters of stderr returned per case
JOBS = 2  # cases run at once (at most one per core)


def _child(argv: list[str], err: int, out: int) -> None:
    """Never returns: runs the CLI and leaves with its exit code."""
    code = 70
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        used = _address_space()
        limit = used + MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(hard, used + MEMORY_LIMIT)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        signal.alarm(TIME_LIMIT)
        _forbid_network()
        from auditor.cli.main import main

        main(argv)
        code = 0
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 1)
    except BaseException:  # the CLI itself lets nothing escape: if something does, show it
        traceback.print_exc()
        code = 71
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _forbid_network() -> None:
    """In the child: any internet connection, lookup or datagram is an error (the suite's guard, in-process)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted by auditor")

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse()
        real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect  # type: ignore[method-assign,assignment]
    socket.socket.sendto = refuse  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]


def _address_space() -> int:
    """Bytes of virtual memory this process maps now (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _start(argv: list[str], err_path: Path, out_path: Path) -> int:
    """Fork one child running ``argv``; its pid."""
    with open(err_path, "wb") as err, open(out_path, "wb") as out:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(argv, err.fileno(), out.fileno())
    return pid


def _result(status: int, usage: resource.struct_rusage, seconds: float, err_path: Path) -> dict[str, object]:
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return {
        "exit": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "stderr": stderr[:STDERR_KEPT],
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
    }


def run_all(cases: list[dict[str, object]], scratch: Path, jobs: int) -> dict[str, object]:
    """Every case, ``jobs`` children at a time; results by case id."""
    results: dict[str, object] = {}
    running: dict[int, tuple[str, Path, float]] = {}
    pending = list(enumerate(cases))
    while pending or running:
        while pending and len(running) < jobs:
            index, case = pending.pop(0)
            err_path = scratch / f"{index}.err"
            pid = _start(list(case["argv"]), err_path, scratch / f"{index}.out")  # type: ignore[call-overload]
            running[pid] = (str(case["id"]), err_path, time.monotonic())
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        case_id, err_path, start = running.pop(pid)
        results[case_id] = _result(status, usage, time.monotonic() - start, err_path)
    return results


def main(cases_file: str, results_file: str) -> None:
    os.environ.setdefault("NO_COLOR", "1")
    os.environ.setdefault("AUDITOR_LANG", "en")
    import auditor.cli.main as cli_main
    from auditor.i18n import catalogue
    from auditor.sources import registry

    cli_main._load_commands()  # imports every command once, before forking
    catalogue()  # the message catalogue and every parser, loaded once too
    registry.parsers()
    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    jobs = min(JOBS, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="auditor-runner-") as scratch:
        results = run_all(cases, Path(scratch), jobs)
    Path(results_file).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
