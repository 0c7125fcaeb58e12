"""The ``texts`` view (``views/30_texts.sql``) in numpy: each distinct free text of each agent, counted.

The SQL stacks every text column of every kind (three columns of a million proxy lines make three million rows)
and hashes six keys per row. Here each column is dictionary-encoded once, the keys fold into one integer per row,
and the counts come from one ``np.unique`` (or a count per code when the codes span a small range); only the
normalisation, a text function whose exact behaviour is DuckDB's (``strip_accents``), runs in DuckDB, once per
distinct text. The SQL file stays the definition; ``tests/unit/test_metric_texts.py`` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from auditor.metrics import scratch

#: For each kind, its text fields and whether a value is the agent's own entry: always, never, or (a column
#: name) when that column is null — as the view's ``raw`` lists them.
SOURCES: dict[str, tuple[tuple[str, bool | str], ...]] = {
    "appointments": (("category", "person_received"), ("subject", "person_received")),
    "queue_tickets": (("service", False), ("outcome", False)),
    "positions": (("activity", True), ("provider", True)),
    "web_requests": (("url", True), ("domain", True), ("category", True)),
    "clock_events": (("method", True),),
    "care_acts": (("act", False), ("method", True)),
    "case_actions": (("action", True), ("comment", False)),
    "activity_events": (("application", True), ("action", True), ("object", True), ("detail", True)),
}

#: The view's normalisation and its filter on blank texts, over the distinct texts (``distinct_texts``).
NORM_SQL = """SELECT text,
       ' ' || trim(regexp_replace(replace(strip_accents(lower(text)), 'œ', 'oe'), '[^a-z0-9]+', ' ', 'g')) || ' '
           AS norm
FROM distinct_texts WHERE trim(text) <> ''"""

SCHEMA = pa.schema([pa.field(name, kind) for name, kind in (
    ("kind", pa.string()), ("tool", pa.string()), ("agent", pa.string()), ("field", pa.string()),
    ("own_entry", pa.bool_()), ("text", pa.string()), ("n", pa.int64()), ("norm", pa.string()))])


def texts(tables: Mapping[str, pa.Table]) -> pa.Table:
    """The rows of the ``texts`` view."""
    parts = [part for kind, fields in SOURCES.items() if tables[kind].num_rows
             for part in _counted(kind, tables[kind], fields)]
    if not parts:
        return SCHEMA.empty_table()
    counted = pa.concat_tables(parts)
    distinct = pc.unique(counted.column("text").combine_chunks())
    con = scratch.cursor()
    try:
        con.register("distinct_texts", pa.table({"text": distinct}))
        normed = con.sql(NORM_SQL).to_arrow_table()
    finally:
        con.close()
    found = pc.index_in(counted.column("text"), value_set=normed.column("text").combine_chunks())
    counted = counted.filter(pc.is_valid(found))
    norm = normed.column("norm").combine_chunks().take(pc.drop_null(found))
    return counted.append_column("norm", norm).cast(SCHEMA)


def _counted(kind: str, table: pa.Table, fields: tuple[tuple[str, bool | str], ...]) -> list[pa.Table]:
    """One kind's distinct (tool, agent, field, own entry, text) with their counts; rows without an agent or a
    text left out."""
    tool, tools = _encoded(table.column("tool"))
    agent, agents = _encoded(table.column("agent"))
    out = []
    for field, own in fields:
        if table.column(field).null_count == table.num_rows:  # a field the tool leaves empty: no text to count
            continue
        text, values = _encoded(table.column(field))
        if isinstance(own, str):
            own_rows = np.asarray(table.column(own).is_null().to_numpy(zero_copy_only=False), dtype=np.int64)
        else:
            own_rows = np.full(table.num_rows, int(own), dtype=np.int64)
        kept = (agent < len(agents)) & (text < len(values))
        sizes = (len(tools) + 1, len(agents) + 1, 2, len(values) + 1)
        columns = [tool, agent, own_rows, text]
        keys, counts = _count(columns if kept.all() else [column[kept] for column in columns], sizes)
        out.append(pa.table({
            "kind": pa.array([kind] * len(counts), pa.string()),
            "tool": _values(tools, keys[0]), "agent": _values(agents, keys[1]),
            "field": pa.array([field] * len(counts), pa.string()),
            "own_entry": pa.array(keys[2] == 1, pa.bool_()),
            "text": _values(values, keys[3]), "n": pa.array(counts, pa.int64())}))
    return out


def _encoded(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, pa.Array[Any]]:
    """One code per row and the distinct values; a null is the code ``len(values)``."""
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(column.combine_chunks()))
    values: pa.Array[Any] = encoded.dictionary
    codes = np.asarray(encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, values


def _count(columns: list[np.ndarray], sizes: tuple[int, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` (codes below their ``sizes``) and how many times each occurs: the columns
    fold into one integer, counted per code when their range is small, else sorted."""
    span = int(np.prod(np.array(sizes, dtype=object)))
    if span >= 1 << 62:  # no single integer holds them: rows of codes, sorted
        rows, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
        return [rows[:, index] for index in range(len(columns))], counts
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column, size in zip(columns, sizes, strict=True):
        key = key * size + column
    if span <= max(4 * len(key), 1 << 16):
        tally = np.bincount(key, minlength=span)
        present = np.flatnonzero(tally)
        counts = tally[present]
    else:
        present, counts = np.unique(key, return_counts=True)
    out = []
    for size in reversed(sizes):
        out.append(present % size)
        present = present // size
    return out[::-1], counts


def _values(values: pa.Array[Any], codes: np.ndarray) -> pa.Array[Any]:
    """The values of ``codes``, null for the null code (``len(values)``)."""
    null = codes == len(values)
    return values.take(pa.array(np.where(null, 0, codes), pa.int64(), mask=null if null.any() else None))
