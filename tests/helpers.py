"""Small helpers shared by the parser test files."""

from __future__ import annotations

import json
from typing import Any

from auditor.model import Dataset


def rejects_of(dataset: Dataset) -> list[tuple[int, str, dict[str, Any]]]:
    """(line, reason, parameters) of every rejected row, in file order."""
    return [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]


def both_paths(data: bytes, name: str, parser: str, switch: Any, block: int, monkeypatch: Any) -> list[Any]:
    """(rows, rejects, provenance counts) read with the fast path on, then off (``switch.vectorised``), in
    blocks of ``block`` bytes: small blocks mix both paths within one file."""
    from auditor.api import ReadOptions, load
    from auditor.sources import base, registry
    from auditor.sources.base import Source

    out = []
    for vectorised in (True, False):
        monkeypatch.setattr(switch, "vectorised", vectorised)
        monkeypatch.setattr(base, "BLOCK_BYTES", block)
        dataset = load([Source.from_bytes(data, name)], ReadOptions(parser=parser))
        table = dataset.tables.get(registry.get(parser).kind)
        p = dataset.provenance[0]
        out.append((table.to_pylist() if table is not None else [], dataset.rejects.to_pylist(),
                    (p.rows_in, p.rows_parsed, p.rows_rejected, p.warnings)))
    return out


def fast_blocks(monkeypatch: Any, module: Any) -> list[bool]:
    """Whether each block read through ``module.read_block`` took the fast path (filled as blocks are read)."""
    taken: list[bool] = []
    original = module.read_block

    def spy(*args: Any) -> Any:
        result = original(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(module, "read_block", spy)
    return taken
