"""One measured task per process: ``python -m benchmarks.tasks NAME FILE [OUT]`` prints wall time and peak RSS.

Each task runs in a fresh interpreter so that its peak memory is its own and its workers' (``TreeMemory``), and
imports are done before the clock starts: what is timed is the work on the file, as a user waits for it.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The per-agent metric of the DuckDB baselines: rows, first and last time per agent, from the file itself.
DUCKDB_METRIC = {
    "positions-csv": """SELECT agent, count(*) AS n, min(t) AS first, max(t) AS last FROM (
        SELECT agent, strptime(horodatage, '%d/%m/%Y %H:%M:%S') AS t
        FROM read_csv($path, delim=';', header=true, decimal_separator=',', all_varchar=true)) GROUP BY agent""",
    "squid-native": """SELECT agent, count(*) AS n, sum(bytes) AS bytes FROM (
        SELECT split_part(line, ' ', -3) AS agent, CAST(split_part(trim(regexp_replace(line, ' +', ' ', 'g')),
               ' ', 5) AS BIGINT) AS bytes
        FROM read_csv($path, columns={'line': 'VARCHAR'}, delim='\\x01', quote='', header=false)) GROUP BY agent""",
    "qmatic-statdb-csv": """SELECT "Staff User Name" AS agent, count(*) AS n, avg("WAITING_TIME") AS wait
        FROM read_csv($path, header=true) GROUP BY agent""",
}


#: A windowed per-agent metric, the sampling interval (median time between an agent's consecutive records of a day,
#: one of the audit's metrics), from the file itself: a sort by agent and time that count/min/max does not need. Shown
#: beside the issue's baseline (the issue measured "one per-agent metric" at 1.4x its pyarrow read; count/min/max
#: is below the read here).
DUCKDB_WINDOW = {
    "positions-csv": """SELECT agent, count(*) AS n, median(gap) AS interval FROM (
        SELECT agent, epoch(t) - epoch(lag(t) OVER (PARTITION BY agent, CAST(t AS DATE) ORDER BY t)) AS gap FROM (
            SELECT agent, strptime(horodatage, '%d/%m/%Y %H:%M:%S') AS t
            FROM read_csv($path, delim=';', header=true, decimal_separator=',', all_varchar=true))) GROUP BY agent""",
    "squid-native": """SELECT agent, count(*) AS n, median(gap) AS interval FROM (
        SELECT agent, t - lag(t) OVER (PARTITION BY agent ORDER BY t) AS gap FROM (
            SELECT split_part(line, ' ', -3) AS agent, CAST(split_part(line, ' ', 1) AS DOUBLE) AS t
            FROM read_csv($path, columns={'line': 'VARCHAR'}, delim='\x01', quote='', header=false)))
        GROUP BY agent""",
    "qmatic-statdb-csv": """SELECT agent, count(*) AS n, median(gap) AS interval FROM (
        SELECT agent, epoch(t) - epoch(lag(t) OVER (PARTITION BY agent ORDER BY t)) AS gap FROM (
            SELECT "Staff User Name" AS agent, make_timestamp(YEAR, MONTH, DAY, HOUR, MINUTE, 0) AS t
            FROM read_csv($path, header=true))) GROUP BY agent""",
}


def pyarrow_read(fmt: str, path: Path) -> None:
    """The raw pyarrow baseline: ``read_csv`` of the file (for Squid: its lines, split on whitespace)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    if fmt == "squid-native":
        lines = pv.read_csv(path, read_options=pv.ReadOptions(column_names=["line"]),
                            parse_options=pv.ParseOptions(delimiter="\x01", quote_char=False),
                            convert_options=pv.ConvertOptions(column_types={"line": pa.string()}))
        for chunk in lines.column("line").chunks:
            pc.ascii_split_whitespace(chunk).flatten()
        return
    delimiter = ";" if fmt == "positions-csv" else ","
    pv.read_csv(path, parse_options=pv.ParseOptions(delimiter=delimiter))


def duckdb_query(queries: dict[str, str], fmt: str, path: Path) -> Any:
    """A DuckDB baseline: the query of ``fmt`` in ``queries`` run on the file, its result as an Arrow table."""
    import duckdb

    with duckdb.connect(":memory:") as con:
        return con.sql(queries[fmt], params={"path": str(path)}).to_arrow_table()


def auditor_audit(fmt: str, path: Path, out: Path) -> None:
    """``auditor audit FILE --out OUT --format json``, in process (exit code 0 or 1 is success)."""
    from auditor.cli.main import main

    try:
        main(["audit", str(path), "--out", str(out), "--format", "json"])
    except SystemExit as done:
        if done.code not in (0, 1, None):
            raise


def auditor_phases(fmt: str, path: Path, out: Path) -> dict[str, dict[str, float]]:
    """The steps of ``auditor audit FILE --out OUT --format json``, each timed: where the command's time goes."""
    from auditor import api, privacy
    from auditor.report.people import people
    from auditor.report.write import Options, write_all
    from auditor.rules.engine import audit

    clock = PhaseClock()
    dataset = api.load([path])
    clock.lap("read")
    result = audit(dataset)
    clock.lap("metrics and rules")
    people(dataset, result.policy)
    clock.lap("people")
    write_all(dataset, result, out, Options("fr", 5, ("json",), privacy.load_or_create_key(out / "pseudonym.key")))
    clock.lap("reports")
    return clock.phases


class PhaseClock:
    """Wall and CPU seconds of consecutive steps. CPU counts every thread of this process and the workers it forked
    and waited for (the metrics' and the reports' pools are shut down inside their step), so CPU over wall says how
    many of the cores a step kept busy."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, float]] = {}
        self._wall, self._cpu = time.perf_counter(), self._cpu_now()

    @staticmethod
    def _cpu_now() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), self._cpu_now()
        self.phases[name] = {"seconds": wall - self._wall, "cpu": cpu - self._cpu}
        self._wall, self._cpu = wall, cpu


def auditor_load_audit(fmt: str, path: Path) -> None:
    """The pipeline without the reports: detect, parse, canonical tables, every metric and rule."""
    from auditor import api
    from auditor.rules.engine import audit

    audit(api.load([path]))


def auditor_workspace_audit(fmt: str, path: Path) -> None:
    """The same pipeline with the input forced into a Parquet workspace (out of core, whatever its size)."""
    from auditor import api
    from auditor.rules.engine import audit

    audit(api.load([path], api.ReadOptions(large_input_bytes=0)))


def generate(fmt: str, path: Path, rows: Path, agents: Path) -> None:
    """Write the input with ``auditor synth --format`` (in its own process: the runner's memory stays small)."""
    from auditor.cli.main import main

    try:
        main(["synth", "--out", str(path), "--format", fmt, "--rows", str(rows), "--agents", str(agents)])
    except SystemExit as done:
        if done.code not in (0, None):
            raise


TASKS: dict[str, Callable[..., Any]] = {
    "pyarrow": pyarrow_read,
    "duckdb": functools.partial(duckdb_query, DUCKDB_METRIC),
    "duckdb-window": functools.partial(duckdb_query, DUCKDB_WINDOW),
    "audit": auditor_audit,
    "phases": auditor_phases,
    "pipeline": auditor_load_audit,
    "workspace": auditor_workspace_audit,
    "generate": generate,
}


def _warm_imports() -> None:
    import auditor  # noqa: F401  # first, as the command does: it sets the allocator before other threads start

    # isort: split
    import duckdb  # noqa: F401
    import pandas  # noqa: F401  # pyarrow imports it on its first pa.array of a Python list (~1 s)
    import pyarrow.csv  # noqa: F401

    from auditor.cli import main
    from auditor.sources import registry

    main._load_commands()
    registry.parsers()


def main(argv: list[str]) -> None:
    name, fmt, path, *rest = argv
    _warm_imports()
    with TreeMemory() as tree:
        start = time.perf_counter()
        details = TASKS[name](fmt, Path(path), *(Path(r) for r in rest))
        seconds = time.perf_counter() - start
    print(json.dumps({"task": name, "seconds": seconds, "peak_rss": max(peak_rss(), tree.peak),
                      **({"phases": details} if name == "phases" else {})}))


def peak_rss() -> int:
    """This process's peak resident memory in bytes: ``VmHWM`` (``ru_maxrss`` keeps the parent's peak
    from before ``exec`` on Linux, which would charge the input generator to every task)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover - not Linux


class TreeMemory:
    """The peak memory of this process and the workers it forks, sampled every ``interval`` seconds: the sum of
    their proportional set sizes (``Pss``: a page the fork shares counts once, split between its processes). A
    worker's own peak would hide the others'; the sum of their RSS would count shared pages once per process."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, sum(_pss(pid) for pid in _tree(os.getpid())))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux's ``/proc/PID/task/TID/children``; just ``pid`` elsewhere)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in children.read_text().split()]
            except OSError:  # the process ended meanwhile
                continue
    return found


def _pss(pid: int) -> int:
    """A process's proportional set size in bytes (0 once it has ended, or where ``/proc`` does not say)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
