"""A small synthetic multi-agent employer, loaded and audited once for all report tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor import api
from auditor.model import Dataset
from auditor.rules.engine import AuditResult, audit
from auditor.synth import write_exports
from auditor.synth.world import World

#: One file per kind, all keyed by the agents' logins (the badge clock uses staff numbers instead).
FILES = ("esirius-agenda-csv.csv", "positions-csv.csv", "qmatic-statdb-csv.csv", "squid-native.log")


@dataclass
class Audited:
    folder: Path
    files: list[Path]
    dataset: Dataset
    result: AuditResult


def make_audited(folder: Path) -> Audited:
    write_exports(folder, World(seed=11, agents_count=6, days=3))
    files = [folder / name for name in FILES]
    dataset = api.load(files)
    return Audited(folder, files, dataset, audit(dataset))


@pytest.fixture(scope="session")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return make_audited(tmp_path_factory.mktemp("exports"))
