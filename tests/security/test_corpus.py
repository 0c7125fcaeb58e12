"""The hostile corpus (corpus.py) through the real CLI: contained, explained, and every row accounted for.

Every case runs `auditor ingest` in its own forked process capped in memory and time (runner.py). A correct
run exits 0 or 2 (never 3, never killed), prints no traceback, names the file — and the line when the case
has one — and, when it reads the file, balances its rows: read = kept + rejected, in provenance.json as in
the Parquet tables and the rejects written beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from tests.security.corpus import Case, generate, parser_names

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the runner forks one process per case")

CASES = generate(None)
MEMORY_MB = 1024  # resident memory a case may reach (the runner also caps its address space)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Generate the corpus and run every case once; (output folder, results by case id)."""
    folder = tmp_path_factory.mktemp("corpus")
    cases = generate(folder / "in")
    manifest, results = folder / "cases.json", folder / "results.json"
    manifest.write_text(json.dumps([{"id": c.id, "argv": c.argv(folder / "in", folder / "out")} for c in cases]))
    env = {**os.environ, "AUDITOR_LANG": "en", "NO_COLOR": "1"}
    subprocess.run([sys.executable, "-m", "tests.security.runner", str(manifest), str(results)], cwd=ROOT,
                   env=env, check=True, timeout=900)
    return folder / "out", json.loads(results.read_text())


def _params() -> list[Any]:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])
            for c in CASES]


def _check_accounting(out: Path, case: Case) -> None:
    summary = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    files = summary["files"]
    rejects = pq.read_table(out / "rejects.parquet").column("source_file").to_pylist()
    tables = list((out / "tables").glob("*.parquet"))
    kept = sum(pq.read_metadata(t).num_rows for t in tables)
    for entry in files:
        assert entry["rows_in"] == entry["rows_parsed"] + entry["rows_rejected"], entry
        assert rejects.count(entry["file"]) == entry["rows_rejected"], entry["file"]
    assert kept == sum(entry["rows_parsed"] for entry in files)
    counted: set[str] = set()
    for entry in files:
        counted |= set(entry["warnings"])
    assert set(case.warnings) <= counted, f"warnings {sorted(counted)} lack {case.warnings}"


@pytest.mark.parametrize("case", _params())
def test_hostile_input_is_contained(case: Case, outcomes: tuple[Path, dict[str, Any]]) -> None:
    out, results = outcomes
    got = results[case.id]
    stderr = got["stderr"]
    assert got["signal"] is None, f"killed by signal {got['signal']} (time or memory limit): {got}"
    assert "Traceback" not in stderr, stderr
    assert got["exit"] in case.exits, f"exit {got['exit']}, expected {sorted(case.exits)}: {stderr}"
    if got["exit"] == 2:
        assert (case.names or Path(case.files[0]).name) in stderr, stderr
        if case.message:
            assert case.message in stderr, stderr
        if case.line:
            assert f"line {case.line}:" in stderr, stderr
    elif case.command == "audit":
        assert (out / case.id / "committee.json").is_file(), stderr
    else:
        _check_accounting(out / case.id, case)
    assert got["max_rss_mb"] < MEMORY_MB, f"{got['max_rss_mb']} MB"


def test_corpus_covers_every_parser_and_is_large_enough() -> None:
    covered = {name for case in CASES for name in case.covers}
    assert set(parser_names()) <= covered
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
