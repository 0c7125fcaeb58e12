"""``uv run python -m benchmarks [--scale S] [--formats ...] [--memory] [--reports]``: the pipeline, timed.

For each format it writes a synthetic export (``auditor.synth.scale``: 10 M positions, 5 M Squid lines,
1 M queue tickets at scale 1) under ``--work`` (default: a temporary folder in /tmp, deleted after), then
measures, each in its own process and ``--repeat`` times, on the same file:

* ``pyarrow`` — ``pyarrow.csv.read_csv`` of the file (Squid: its lines, split with ``ascii_split_whitespace``);
* ``duckdb`` — one per-agent metric computed by DuckDB straight from the file (benchmarks/tasks.py): records and
  first and last time per agent (the issue's baseline);
* ``duckdb-window`` — a windowed one, the sampling interval (median time between an agent's consecutive records);
* ``pipeline`` — ``api.load`` + ``engine.audit``: detect, parse, canonical tables, every metric and rule;
* ``workspace`` — the same, the input forced into a Parquet workspace (out of core);
* ``audit`` — ``auditor audit FILE --out DIR --format json`` end to end (reports included);
* ``phases`` — the same command's steps (read; metrics and rules; people; reports), each with its wall time and
  its CPU time (the workers' included): where the time goes, and how many cores each step keeps busy.

It prints wall time, peak RSS (with the workers a task forks: their proportional set sizes summed, see
``tasks.TreeMemory``) and the ratios to the baselines. ``--memory`` also measures the pipeline's
peak RSS on 1×, 2× and 5× a base size (``workspace`` task), to show whether memory grows with the input;
``--reports`` adds personal HTML reports per second for 2,000 agents (``benchmarks/reports.py``).
Inputs are written by ``auditor synth --format F --rows N``.
``AUDITOR_MEMORY_LIMIT`` (e.g. ``512MB``) is the audit's memory setting in every task (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from auditor.synth import scale

SIZES = {"positions-csv": 10_000_000, "squid-native": 5_000_000, "qmatic-statdb-csv": 1_000_000}
TARGETS = {  # (baseline, largest ratio allowed) for the pipeline, from the issue
    "positions-csv": (("pyarrow", 2.0), ("duckdb", 1.5)),
    "squid-native": (("pyarrow", 1.5),),
    "qmatic-statdb-csv": (),
}
GIB = 1 << 30


def run(task: str, fmt: str, path: Path, *extra: Path, timeout: float = 3600) -> dict[str, Any]:
    """One task in a fresh interpreter; its JSON line (seconds, peak_rss) or the error it died of."""
    command = [sys.executable, "-m", "benchmarks.tasks", task, fmt, str(path), *map(str, extra)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"task": task, "error": f"timeout after {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"task": task, "error": (done.stderr.strip().splitlines() or ["?"])[-1][:200]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _show(fmt: str, rows: int, results: dict[str, list[dict[str, Any]]]) -> None:
    print(f"\n## {fmt}: {rows:,} rows")
    print(f"{'task':<13} {'run':>4} {'seconds':>9} {'peak RSS':>10}")
    for task, runs in results.items():
        for i, r in enumerate(runs, start=1):
            if "error" in r:
                print(f"{task:<13} {i:>4}   failed: {r['error']}")
            else:
                print(f"{task:<13} {i:>4} {r['seconds']:>9.2f} {r['peak_rss'] / 2**20:>8.0f} MB")
    best = {t: min((r["seconds"] for r in runs if "seconds" in r), default=None) for t, runs in results.items()}
    for measured in ("pipeline", "workspace", "audit"):
        if best.get(measured) is None:
            continue
        for baseline in ("pyarrow", "duckdb", "duckdb-window"):
            if best.get(baseline):
                target = dict(TARGETS[fmt]).get(baseline)
                goal = f" (target ≤ {target})" if target and measured == "pipeline" else ""
                print(f"ratio {measured}/{baseline}: {best[measured] / best[baseline]:.2f}{goal}")  # type: ignore[operator]
    peaks = [r["peak_rss"] for r in results.get("pipeline", []) if "peak_rss" in r]
    if peaks:
        print(f"pipeline peak RSS {max(peaks) / GIB:.2f} GiB (target ≤ 1 GiB)")
    for i, r in enumerate(results.get("phases", []), start=1):
        if "phases" in r:
            print(f"\nphases of `auditor audit --format json`, run {i}:")
            print(f"{'step':<18} {'seconds':>8} {'CPU s':>8} {'cores':>6}")
            for step, spent in r["phases"].items():
                cores = spent["cpu"] / spent["seconds"] if spent["seconds"] else 0.0
                print(f"{step:<18} {spent['seconds']:>8.2f} {spent['cpu']:>8.2f} {cores:>6.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's sizes (default 1)")
    parser.add_argument("--formats", default=",".join(SIZES), help="comma-separated formats")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement (default 2)")
    parser.add_argument("--tasks", default="pyarrow,duckdb,duckdb-window,pipeline,audit,phases",
                        help="comma-separated tasks")
    parser.add_argument("--memory", action="store_true", help="pipeline peak RSS at 1x, 2x, 5x the input")
    parser.add_argument("--reports", action="store_true",
                        help="also personal HTML reports for 2,000 agents (benchmarks.reports, its own process)")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=None, help="where inputs go (default: a /tmp folder)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="auditor-bench-"))
    tasks = [t for t in args.tasks.split(",") if t]
    try:
        for fmt in [f for f in args.formats.split(",") if f]:
            rows = max(1, int(SIZES[fmt] * args.scale))
            path = _generate(fmt, rows, work / fmt, args.agents)
            print(f"\n{path}: {path.stat().st_size / 2**20:.0f} MB", flush=True)
            results: dict[str, list[dict[str, Any]]] = {}
            for task in tasks:
                results[task] = []
                for i in range(args.repeat):
                    # each run writes into a folder of its own, removed once the format is measured: removing
                    # the last run's 4,000 files just before writing as many again slowed the writes by a second
                    extra = [work / f"out-{fmt}-{task}-{i}"] if task in ("audit", "phases") else []
                    results[task].append(run(task, fmt, path, *extra))
            _show(fmt, rows, results)
            path.unlink()
            for folder in work.glob(f"out-{fmt}-*"):
                shutil.rmtree(folder, ignore_errors=True)
            if args.memory:
                _memory(fmt, rows, work, args.agents)
        if args.reports:
            print("\n## personal reports, 2,000 agents", flush=True)
            subprocess.run([sys.executable, "-m", "benchmarks.reports", "--agents", "2000", "--days", "2"], check=False)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _generate(fmt: str, rows: int, folder: Path, agents: int) -> Path:
    """``auditor synth --format`` in a child process: the runner stays small (see tasks.peak_rss)."""
    result = run("generate", fmt, folder, Path(str(rows)), Path(str(agents)))
    if "error" in result:
        raise SystemExit(f"generating {fmt}: {result['error']}")
    return folder / scale.LAYOUTS[fmt][0]


def _memory(fmt: str, rows: int, work: Path, agents: int) -> None:
    """Peak RSS of the workspace pipeline at 1x, 2x and 5x ``rows``: flat when memory is bounded."""
    print(f"\n### {fmt}: workspace pipeline peak RSS against input size")
    first = None
    for factor in (1, 2, 5):
        path = _generate(fmt, rows * factor, work / f"{fmt}-x{factor}", agents)
        result = run("workspace", fmt, path)
        path.unlink()
        if "error" in result:
            print(f"{factor}x: failed: {result['error']}")
            continue
        first = first or result["peak_rss"]
        print(f"{factor}x {rows * factor:>12,} rows: {result['peak_rss'] / 2**20:>7.0f} MB "
              f"({result['peak_rss'] / first - 1:+.0%} vs 1x), {result['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
