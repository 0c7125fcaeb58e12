"""Personal reports per second: N agents of the synthetic world, every kind, HTML reports written.

    uv run python -m benchmarks.reports --agents 2000 --days 2

The dataset is built straight from the synthetic world's canonical rows (parsing is measured by the
other benchmarks); the audit runs once; then every personal HTML report (with its letter) is written
and timed, serially and through `write_people` on every core (as `auditor audit` does).
Prints wall times, reports per second, ms per report and peak RSS. No number here is asserted by a test.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import yaml

from auditor import schemas
from auditor.model import Dataset
from auditor.policy import Policy, load_policy
from auditor.report.index import ReportIndex
from auditor.report.write import Options, selected_people, write_people
from auditor.rules.engine import audit
from auditor.sources.base import rejects_table
from auditor.synth.world import World

KINDS = ("appointments", "queue_tickets", "positions", "web_requests", "clock_events", "care_acts",
         "case_actions", "activity_events")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def world_policy(world: World) -> Policy:
    """The world's declaration, so each person's identifiers make one report (as in `auditor demo`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(yaml.safe_dump(world.policy(), allow_unicode=True), encoding="utf-8")
        return load_policy(path)


def world_dataset(agents: int, days: int, seed: int) -> Dataset:
    world = World(seed=seed, agents_count=agents, days=days)
    tables = {}
    for kind in KINDS:
        schema = schemas.get(kind).arrow
        rows = world.rows(kind)
        for number, row in enumerate(rows, 1):
            row.setdefault("tool", f"synth-{kind}")
            row.setdefault("source_file", f"{kind}.synthetic")
            row.setdefault("source_row", number)
        tables[kind] = pa.Table.from_pylist(rows, schema=schema)
    return Dataset(tables=tables, rejects=rejects_table("", []), provenance=[])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    dataset = world_dataset(args.agents, args.days, args.seed)
    rows = sum(t.num_rows for t in dataset.tables.values())
    built = time.perf_counter()
    result = audit(dataset, world_policy(World(seed=args.seed, agents_count=args.agents, days=args.days)))
    audited = time.perf_counter()
    names = [p.name for p in selected_people(dataset, result, None)]
    print(f"dataset: {len(names)} agents, {rows:,} rows in {built - started:.1f} s; audit {audited - built:.1f} s",
          file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        people = selected_people(dataset, result, None)
        options = Options("fr", 5, ("html",), b"benchmark-key-0123456789abcdef!!")
        index = ReportIndex(dataset, result)
        index_done = time.perf_counter()
        sample = people[: min(len(people), 200)]
        t0 = time.perf_counter()
        write_people(dataset, result, sample, Path(tmp) / "serial", options, index, workers=1)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        done = len(write_people(dataset, result, people, Path(tmp) / "parallel", options, index,
                                workers=args.workers))
        parallel = time.perf_counter() - t0
        files = sum(1 for _ in (Path(tmp) / "parallel").rglob("report.html"))

    print(f"index built in {index_done - audited:.2f} s")
    print(f"serial:   {len(sample)} reports in {serial:.2f} s = {1000 * serial / len(sample):.1f} ms/report")
    print(f"parallel: {done} reports ({files} files) on {args.workers} processes in {parallel:.2f} s = "
          f"{done / parallel:.0f} reports/s, {1000 * parallel / done:.1f} ms/report (target: 2,000 in <= 40 s)")
    print(f"peak RSS (this process): {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
