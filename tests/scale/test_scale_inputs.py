"""Large-input machinery: scale generators, the vectorised paths on their output, dataset accessors."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from auditor import api
from auditor.synth import scale
from tests.helpers import fast_blocks

ROWS = 3000


@pytest.mark.parametrize("fmt", sorted(scale.LAYOUTS))
def test_scale_exports_parse_without_a_reject_and_repeat_byte_for_byte(fmt: str, tmp_path: Path) -> None:
    first = scale.write(fmt, ROWS, tmp_path / "a", agents=40, seed=3)
    second = scale.write(fmt, ROWS, tmp_path / "b", agents=40, seed=3)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != scale.write(fmt, ROWS, tmp_path / "c", agents=40, seed=4).read_bytes()
    read = api.read(first)
    assert read.parser.name == fmt
    rows = sum(batch.num_rows for batch in read.batches())
    assert (rows, read.provenance.rows_in, read.provenance.rows_rejected) == (ROWS, ROWS, 0)


@pytest.mark.parametrize("fmt", ["positions-csv", "squid-native"])
def test_scale_exports_take_the_vectorised_path(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.sources import profiles, proxy_fast

    taken = fast_blocks(monkeypatch, profiles if fmt == "positions-csv" else proxy_fast)
    path = scale.write(fmt, ROWS, tmp_path, agents=40)
    assert sum(b.num_rows for b in api.read(path).batches()) == ROWS
    assert taken and all(taken)


def test_agent_rows_and_sql_agree_with_a_full_scan(tmp_path: Path) -> None:
    dataset = api.load([scale.write("positions-csv", ROWS, tmp_path, agents=40)])
    table = dataset.tables["positions"]
    agents = dataset.agents()
    assert len(agents) == 40
    for agent in [*agents[:5], "nobody"]:
        expected = table.filter(pc.equal(table.column("agent"), agent)).drop_columns(["source_file", "source_row"])
        assert dataset.agent_rows("positions", agent).equals(expected)
    counts = dataset.sql("SELECT agent, count(*) AS n FROM positions WHERE agent <> $skip GROUP BY agent "
                         "ORDER BY agent", skip=agents[0])
    assert counts.column("agent").to_pylist() == agents[1:]
    assert sum(counts.column("n").to_pylist()) == ROWS - len(dataset.agent_rows("positions", agents[0]))
    assert dataset.sql("SELECT count(*) AS n FROM web_requests").column("n").to_pylist() == [0]


def test_auditor_synth_writes_one_large_export(tmp_path: Path) -> None:
    """`auditor synth --format F --rows N`: the benchmarks' inputs, written by the command line."""
    from auditor.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["synth", "--out", str(tmp_path), "--format", "squid-native", "--rows", "250", "--agents", "7",
              "--seed", "3"])
    assert done.value.code in (0, None)
    written = tmp_path / scale.LAYOUTS["squid-native"][0]
    assert written.read_bytes() == scale.write("squid-native", 250, tmp_path / "same", agents=7, seed=3).read_bytes()
    assert sum(batch.num_rows for batch in api.read(written).batches()) == 250
