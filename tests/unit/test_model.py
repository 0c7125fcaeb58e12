"""Dataset accessors: a workspace dataset gives each agent's rows exactly as the in-memory one, without
reading a whole kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import api, model
from auditor.io.parts import Layout, split_file
from auditor.model import Dataset
from auditor.synth import scale

ROWS = 3000


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Dataset, Dataset]:
    """The same positions in memory and in a workspace (read by agent from the read's person parts)."""
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
    split into parts once more for its per-agent index, once."""
    memory, space = pair
    assert space.workspace is not None
    layout = Layout.read(space.workspace / "parts")
    assert layout is not None
    Layout(layout.parts, {"positions": [0] * (layout.parts - 1) + [1]}).write(space.workspace / "parts")
    agents = memory.agents()
    for several in ([agents[0]], agents[:3], [agents[-1], agents[4]]):
        assert space.rows_of("positions", several).equals(memory.rows_of("positions", several))
    scratch = space.workspace / "by_agent" / "positions"
    made = sorted((p.name, p.stat().st_mtime_ns) for p in scratch.iterdir())
    assert made and space.rows_of("positions", agents[5:9]).equals(memory.rows_of("positions", agents[5:9]))
    space.index_by_agent()
    assert sorted((p.name, p.stat().st_mtime_ns) for p in scratch.iterdir()) == made


def test_workspace_kinds_and_pairs_need_no_table(pair: tuple[Dataset, Dataset],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    memory, space = pair
    _no_whole_reads(monkeypatch)
    assert "positions" in space.tables and "web_requests" not in space.tables
    assert space.kinds() == memory.kinds() == ["positions"]
    assert space.tool_agents() == memory.tool_agents()
    with pytest.raises(KeyError):
        space.rows_of("web_requests", ["x"])


def test_part_index_keeps_input_order_within_an_agent_and_leaves_missing_agents_out(tmp_path: Path) -> None:
    table = pa.table({"agent": ["b", None, "a", "b", "a", None, "c", "b", "d"], "x": list(range(9)),
                      "source_row": list(range(9))})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    on_disk = model.PartIndex("t", tmp_path / "t.parquet", tmp_path / "no-parts", tmp_path / "split")
    in_memory = model.MemoryIndex(table.drop_columns(["source_row"]))
    assert on_disk.parts > 1 and len({on_disk.place(a) for a in "abcd"}) > 1  # agents in several parts
    for agents in (["a"], ["b"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"], ["nobody"], []):
        assert on_disk.rows(agents).equals(in_memory.rows(agents)), agents
    assert on_disk.rows(["b", "c"]).column("x").to_pylist() == [0, 3, 6, 7]
    assert on_disk.rows(["b", "d"]).column("x").to_pylist() == [0, 3, 7, 8]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "c", "dé", "e" * 30, None]), max_size=60),
       st.lists(st.lists(st.sampled_from(["a", "b", "c", "dé", "e" * 30, "nobody"]), max_size=4), min_size=1,
                max_size=6),
       st.sampled_from([1, 2, 3, 16]))
def test_part_index_rows_equal_the_in_memory_index(tmp_path_factory: pytest.TempPathFactory, agents: list[str | None],
                                                   asked: list[list[str]], parts: int) -> None:
    """Any identifiers, in any number of parts, asked for in any groups and order (several parts in turn, the
    same part again): the rows the in-memory index gives, in input order."""
    folder = tmp_path_factory.mktemp("parts")
    table = pa.table({"agent": pa.array(agents, pa.string()), "x": list(range(len(agents))),
                      "source_row": list(range(len(agents)))})
    pq.write_table(table, folder / "t.parquet")
    Layout(parts, {"t": split_file(folder / "t.parquet", folder / "parts" / "t", parts)}).write(folder / "parts")
    on_disk = model.PartIndex("t", folder / "t.parquet", folder / "parts", folder / "scratch")
    assert on_disk.parts == parts and not (folder / "scratch").exists()  # the parts match: read as they are
    in_memory = model.MemoryIndex(table.drop_columns(["source_row"]))
    for wanted in asked:
        assert on_disk.rows(sorted(set(wanted))).equals(in_memory.rows(sorted(set(wanted)))), wanted


def test_the_index_is_opened_once_per_dataset_without_copying_a_kind(pair: tuple[Dataset, Dataset]) -> None:
    _, space = pair
    space.index_by_agent()
    index = space._by_agent["positions"]
    for agent in space.agents()[:5]:
        space.agent_rows("positions", agent)
    space.index_by_agent()
    assert space._by_agent["positions"] is index
    assert not (space.workspace / "by_agent").exists()  # type: ignore[operator]  # the read's parts matched


def test_filtered_rows_equal_the_index_rows_without_building_an_index(pair: tuple[Dataset, Dataset],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    memory, space = pair
    agents = memory.agents()
    _no_whole_reads(monkeypatch)
    for wanted in ([agents[0]], [agents[-1]], agents[:3], [agents[-1], agents[0], "nobody"], ["nobody"], []):
        expected = memory.rows_of("positions", wanted)
        assert memory.filtered_rows("positions", wanted).equals(expected), wanted
        assert space.filtered_rows("positions", wanted).equals(expected), wanted
    assert not (space.workspace / "by_agent").exists()  # type: ignore[operator]  # nothing was split
    assert space._by_agent == {} and memory._by_agent.keys() == {"positions"}
    with pytest.raises(KeyError):
        space.filtered_rows("web_requests", ["x"])


def test_filtered_rows_leave_rows_without_an_agent_out(tmp_path: Path) -> None:
    table = pa.table({"agent": ["b", None, "a", "b"], "x": [0, 1, 2, 3]})
    memory = Dataset({"positions": table}, pa.table({}), [])
    assert memory.filtered_rows("positions", ["a", "b"]).column("x").to_pylist() == [0, 2, 3]


def test_index_rows_in_any_agent_order_equal_the_in_memory_ones(pair: tuple[Dataset, Dataset]) -> None:
    """The index keeps the last part it sorted: reading agents backwards and at random is the same."""
    memory, space = pair
    agents = memory.agents()
    order = [*reversed(agents), *agents[::3], *agents[1::5], agents[7], agents[7]]
    for agent in order:
        assert space.agent_rows("positions", agent).equals(memory.agent_rows("positions", agent)), agent
