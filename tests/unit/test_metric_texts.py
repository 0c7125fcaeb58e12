"""The ``texts`` view built in numpy (``metrics.text_values``) equals its SQL definition run by DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api, schemas
from auditor.metrics import text_values
from auditor.metrics.catalog import views
from auditor.metrics.runner import MetricRunner, _strip_header, encoded_texts
from auditor.testing.strategies import kind_rows

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"
TEXTS = ["Pause", "pause", "PAUSE ", " ", "", "Œuvre d'été", "médecin", "a-b", "https://x.fr/a?b", "ß ø Æ", "\tx"]


@st.composite
def canonical_tables(draw: st.DrawFn) -> dict[str, pa.Table]:
    """Every kind, a few rows each, with agents, tools and texts drawn from small sets so that they repeat."""
    tables = {}
    for kind in schemas.KINDS:
        arrow = schemas.get(kind).arrow
        rows = draw(st.lists(kind_rows(kind), max_size=12))
        for row in rows:
            row["tool"] = draw(st.sampled_from(["t1", "t2"]))
            agent_field = arrow.field("agent")
            row["agent"] = draw(st.sampled_from(["a", "b", None] if agent_field.nullable else ["a", "b"]))
            for field, own in text_values.SOURCES[kind]:
                row[field] = draw(st.sampled_from([*TEXTS, None]))
                if isinstance(own, str):
                    row[own] = draw(st.sampled_from([None, "someone"]))
        tables[kind] = pa.Table.from_pylist(rows, schema=arrow)
    return tables


def _sql_texts(tables: dict[str, pa.Table]) -> pa.Table:
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register(name, table)
    view = next(spec for spec in views() if spec.name == "texts")
    result: pa.Table = con.sql(_strip_header(view.sql)).to_arrow_table()
    return result


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _built(tables: dict[str, pa.Table]) -> pa.Table:
    return text_values.texts(tables)


@settings(max_examples=40, deadline=None)
@given(canonical_tables(), st.booleans())
def test_texts_equal_the_view(tables: dict[str, pa.Table], bucket: bool) -> None:
    """On the kinds as given, or as a bucket holds them (text dictionary-encoded)."""
    expected = _sql_texts(tables)
    got = _built({kind: encoded_texts(kind, table) for kind, table in tables.items()} if bucket else tables)
    assert got.schema == expected.schema
    assert _rows(got) == _rows(expected)


def test_texts_of_the_samples_equal_the_view() -> None:
    dataset = api.load(sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".md"))
    with MetricRunner(dataset.tables) as runner:
        tables = {kind: runner.con.sql(f"SELECT * FROM {kind}").to_arrow_table() for kind in schemas.KINDS}
    expected = _sql_texts(tables)
    assert expected.num_rows > 100
    assert _rows(_built(tables)) == _rows(expected)
