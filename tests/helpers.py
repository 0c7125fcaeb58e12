"""Small helpers shared by the parser test files."""

from __future__ import annotations

import json
from typing import Any

from auditor.model import Dataset


def rejects_of(dataset: Dataset) -> list[tuple[int, str, dict[str, Any]]]:
    """(line, reason, parameters) of every rejected row, in file order."""
    return [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]
