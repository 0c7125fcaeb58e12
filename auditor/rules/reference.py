"""Reference tables every metric run registers: retention caps, lexicon patterns, schema fields, tools."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditor import schemas
from auditor.rules.lexicons import pattern_table
from auditor.rules.yamlsafe import DocumentError, load_file


@cache
def retention_caps() -> dict[str, dict[str, Any]]:
    """CNIL caps by kind (``retention_caps.yaml``)."""
    path = Path(str(resources.files("auditor.rules"))) / "retention_caps.yaml"
    data, problems = load_file(path)
    if problems or not isinstance(data, dict):
        raise DocumentError(problems)
    return data


def reference_tables(tools: list[str]) -> dict[str, pa.Table]:
    from auditor.tools import capability_table

    caps = retention_caps()
    fields = [(k.kind, f.name, f.sensitivity) for k in schemas.all_kinds() for f in k.fields]
    return {
        "retention_caps": pa.table({
            "kind": pa.array(list(caps), pa.string()),
            "cap_days": pa.array([c["cap_days"] for c in caps.values()], pa.int64()),
            "reference": pa.array([c["reference"] for c in caps.values()], pa.string()),
        }),
        "lexicon_patterns": pattern_table(),
        "schema_fields": pa.table({
            "kind": pa.array([f[0] for f in fields], pa.string()),
            "field": pa.array([f[1] for f in fields], pa.string()),
            "sensitivity": pa.array([f[2] for f in fields], pa.string()),
        }),
        "tool_capabilities": capability_table(tools),
    }
