"""sample_exports/ is exactly what `auditor synth` makes, and every file in it and in the real exports is
detected as the right format, with no ambiguity left unreported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.api import load
from auditor.sources import registry
from auditor.sources.base import Source
from auditor.synth import plan, write_exports
from auditor.synth.world import World
from tests.conftest import REAL_EXPORTS, SAMPLES, real_exports

SAMPLE_DAYS = 5  # Wednesday to Sunday: two working days, a weekend and the spring clock change
REGENERATE = f"run `uv run auditor synth --out sample_exports --days {SAMPLE_DAYS}` and commit"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| `(?P<parser>[^`]+)` \| `(?P<kind>[^`]+)` \| (?P<rows>\d+) \|")


def _listed() -> list[tuple[Path, str, str, int]]:
    readme = SAMPLES / "README.md"
    if not readme.exists():
        return []
    found = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            found.append((SAMPLES / match["file"], match["parser"], match["kind"], int(match["rows"])))
    return found


def test_sample_exports_are_what_synth_makes(tmp_path: Path) -> None:
    write_exports(tmp_path, World(days=SAMPLE_DAYS))
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(SAMPLES): p.read_bytes() for p in SAMPLES.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed), REGENERATE
    for name, data in fresh.items():
        assert committed[name] == data, f"{name} is stale: {REGENERATE}"


def test_every_format_that_can_render_has_a_sample() -> None:
    listed = {parser for _, parser, _, _ in _listed()}
    assert {parser.name for parser, _, _ in plan(World(days=SAMPLE_DAYS))} <= listed


@pytest.mark.parametrize(("path", "parser", "kind", "rows"), _listed(), ids=lambda v: str(v))
def test_each_sample_is_detected_and_parsed_completely(path: Path, parser: str, kind: str, rows: int) -> None:
    found = registry.detect(Source.from_path(path))
    assert (found.parser, found.kind) == (parser, kind)
    assert not found.ambiguous, found.candidates
    dataset = load([path])
    assert dataset.tables[kind].num_rows == rows
    assert dataset.rejects.num_rows == 0
    assert dataset.provenance[0].balanced


REAL_FAMILIES = {"gpx": "gpx", "ics": "icalendar", "web": "squid-native", "google": "google-timeline-device"}


@pytest.mark.parametrize("family", sorted(REAL_FAMILIES))
def test_real_exports_are_detected(family: str) -> None:
    files = real_exports(family)
    for path in files:
        found = registry.detect(Source.from_path(path))
        assert found.parser == REAL_FAMILIES[family], (path.name, found)


def test_real_exports_folder_is_outside_the_repository() -> None:
    assert not (SAMPLES / "real_exports").exists()
    assert REAL_EXPORTS.parent.name == "shared"
