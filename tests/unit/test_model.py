"""Dataset accessors: a workspace dataset gives each agent's rows exactly as the in-memory one, without
reading a whole kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from auditor import api, model
from auditor.io.parts import Layout
from auditor.model import Dataset
from auditor.synth import scale

ROWS = 3000


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Dataset, Dataset]:
    """The same positions in memory and in a workspace (its copy sorted by agent made of the read's parts), sorted
    copies in row groups of 7 rows (so that agents straddle row groups and reader batches)."""
    monkeypatch.setattr(model, "SORTED_ROW_GROUP", 7)
    path = scale.write("positions-csv", ROWS, tmp_path / "in", agents=40, seed=5)
    memory = api.load([path])
    space = api.load([path], api.ReadOptions(large_input_bytes=0))
    assert memory.workspace is None and space.workspace is not None
    return memory, space


def _no_whole_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a whole kind was read into memory")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(model.ParquetTables, "__getitem__", refuse)


def test_workspace_rows_of_each_agent_equal_the_in_memory_ones(pair: tuple[Dataset, Dataset],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    memory, space = pair
    agents = memory.agents()
    _no_whole_reads(monkeypatch)
    assert space.agents() == agents and len(agents) == 40
    for agent in [*agents, "nobody"]:
        assert space.agent_rows("positions", agent).equals(memory.agent_rows("positions", agent))
    table = memory.tables["positions"]
    for several in (agents[:3], agents[5:40:7], [agents[-1], agents[0], "nobody"]):
        mine = space.rows_of("positions", several)
        assert mine.equals(memory.rows_of("positions", several))
        in_input_order = table.filter(pc.is_in(table.column("agent"), pa.array(several)))
        assert mine.equals(in_input_order.drop_columns(["source_file", "source_row"]))
    assert space.rows_of("positions", []).schema == table.drop_columns(["source_file", "source_row"]).schema


def test_a_workspace_without_parts_gives_the_same_rows(pair: tuple[Dataset, Dataset]) -> None:
    """A workspace made without the read's parts (merged uploads) or whose parts no longer match its tables is
    split into parts once more for its sorted copy."""
    memory, space = pair
    assert space.workspace is not None
    layout = Layout.read(space.workspace / "parts")
    assert layout is not None
    Layout(layout.parts, {"positions": [0] * (layout.parts - 1) + [1]}).write(space.workspace / "parts")
    agents = memory.agents()
    for several in ([agents[0]], agents[:3], [agents[-1], agents[4]]):
        assert space.rows_of("positions", several).equals(memory.rows_of("positions", several))
    assert not list((space.workspace / "by_agent").glob(".*"))  # the scratch parts are gone


def test_workspace_kinds_and_pairs_need_no_table(pair: tuple[Dataset, Dataset],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    memory, space = pair
    _no_whole_reads(monkeypatch)
    assert "positions" in space.tables and "web_requests" not in space.tables
    assert space.kinds() == memory.kinds() == ["positions"]
    assert space.tool_agents() == memory.tool_agents()
    with pytest.raises(KeyError):
        space.rows_of("web_requests", ["x"])


def test_sorted_copy_keeps_input_order_within_an_agent_and_leaves_missing_agents_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "SORTED_ROW_GROUP", 2)
    table = pa.table({"agent": ["b", None, "a", "b", "a", None, "c", "b"], "x": list(range(8)),
                      "source_row": list(range(8))})
    pq.write_table(table, tmp_path / "t.parquet")
    on_disk = model.ParquetIndex.build("t", tmp_path / "t.parquet", tmp_path / "no-parts", tmp_path / "sorted.parquet")
    in_memory = model.MemoryIndex(table.drop_columns(["source_row"]))
    assert sorted(on_disk.bounds) == ["a", "b", "c"]
    assert sorted(stop - start for start, stop in on_disk.bounds.values()) == [1, 2, 3]
    for agents in (["a"], ["b"], ["a", "b"], ["a", "b", "c"], ["nobody"], []):
        assert on_disk.rows(agents).equals(in_memory.rows(agents)), agents
    assert on_disk.rows(["b", "c"]).column("x").to_pylist() == [0, 3, 6, 7]


def test_the_sorted_copy_is_made_once_per_dataset(pair: tuple[Dataset, Dataset]) -> None:
    _, space = pair
    space.index_by_agent()
    sorted_copy = space.workspace / "by_agent" / "positions.parquet"  # type: ignore[operator]
    built = sorted_copy.stat().st_mtime_ns
    for agent in space.agents()[:5]:
        space.agent_rows("positions", agent)
    space.index_by_agent()
    assert sorted_copy.stat().st_mtime_ns == built


def test_filtered_rows_equal_the_index_rows_without_building_an_index(pair: tuple[Dataset, Dataset],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    memory, space = pair
    agents = memory.agents()
    _no_whole_reads(monkeypatch)
    for wanted in ([agents[0]], [agents[-1]], agents[:3], [agents[-1], agents[0], "nobody"], ["nobody"], []):
        expected = memory.rows_of("positions", wanted)
        assert memory.filtered_rows("positions", wanted).equals(expected), wanted
        assert space.filtered_rows("positions", wanted).equals(expected), wanted
    assert not (space.workspace / "by_agent").exists()  # type: ignore[operator]  # no sorted copy was made
    assert space._by_agent == {} and memory._by_agent.keys() == {"positions"}
    with pytest.raises(KeyError):
        space.filtered_rows("web_requests", ["x"])


def test_filtered_rows_leave_rows_without_an_agent_out(tmp_path: Path) -> None:
    table = pa.table({"agent": ["b", None, "a", "b"], "x": [0, 1, 2, 3]})
    memory = Dataset({"positions": table}, pa.table({}), [])
    assert memory.filtered_rows("positions", ["a", "b"]).column("x").to_pylist() == [0, 2, 3]


def test_index_rows_in_any_agent_order_equal_the_in_memory_ones(pair: tuple[Dataset, Dataset]) -> None:
    """The sorted copy keeps the last row group it decoded: reading agents backwards and at random is the same."""
    memory, space = pair
    agents = memory.agents()
    order = [*reversed(agents), *agents[::3], *agents[1::5], agents[7], agents[7]]
    for agent in order:
        assert space.agent_rows("positions", agent).equals(memory.agent_rows("positions", agent)), agent
