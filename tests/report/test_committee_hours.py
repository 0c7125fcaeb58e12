"""The committee's records per local hour look the zone's offset up per UTC hour instead of converting every value
(``committee._local_hour``): the same hours as DuckDB's ``timezone()`` and as Python's ``astimezone``, around clock
changes too, including a zone whose clocks change in the middle of a UTC hour, and before 1970 (where every value is
converted)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.metrics.runner import connect
from auditor.report import committee, facts

#: Around the clock changes of 2025 in Paris (at 01:00 UTC) and in St John's (at 02:00 local: 04:30 / 05:30 UTC).
CHANGES = [datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC),
           datetime(2025, 3, 9, 5, 30, tzinfo=UTC), datetime(2025, 11, 2, 4, 30, tzinfo=UTC)]

instants = st.one_of(
    st.builds(lambda change, seconds: change + timedelta(seconds=seconds),
              st.sampled_from(CHANGES), st.integers(-4 * 3600, 4 * 3600)),
    st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)),
)
rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.one_of(st.none(), instants)),
                min_size=1, max_size=60)


def _table(values: list[tuple[str | None, datetime | None]]) -> pa.Table:
    return pa.table({"tool": pa.array(["t"] * len(values)),
                     "agent": pa.array([agent for agent, _ in values], pa.string()),
                     "time": pa.array([when for _, when in values], pa.timestamp("us", tz="UTC"))})


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns"])
@settings(max_examples=60, deadline=None)
@given(values=rows)
def test_hours_by_offset_are_duckdbs_and_the_in_memory_ones(zone: str,
                                                          values: list[tuple[str | None, datetime | None]]) -> None:
    table = _table(values)
    con = connect()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(facts, "LOCAL", ZoneInfo(zone))
        con.register("positions", table)
        looked_up = committee._tool_stats(con, "positions", "t", table.num_rows, "time").hours
        converted = {hour: (agents, int(records)) for hour, agents, records in con.sql(
            "SELECT hour, count(*), sum(n) FROM (SELECT hour(timezone($zone, time)) AS hour, agent, count(*) AS n "
            "FROM positions WHERE agent IS NOT NULL AND time IS NOT NULL GROUP BY ALL) GROUP BY hour",
            params={"zone": zone}).fetchall()}
    con.close()
    assert looked_up == converted
    assert looked_up == _python_hours(values, ZoneInfo(zone))


def _python_hours(values: list[tuple[str | None, datetime | None]], zone: ZoneInfo) -> dict[int, tuple[int, int]]:
    """(agents, records) per local hour, value by value."""
    agents: dict[int, set[str]] = {}
    records: Counter[int] = Counter()
    for agent, when in values:
        if agent is not None and when is not None:
            hour = when.astimezone(zone).hour
            agents.setdefault(hour, set()).add(agent)
            records[hour] += 1
    return {hour: (len(names), records[hour]) for hour, names in agents.items()}


def test_the_offsets_serve_only_where_they_hold() -> None:
    """Before 1970 the integer division of the times would not be a floor: every value is converted instead."""
    con = connect()
    try:
        before = int(datetime(1969, 12, 31, 23, tzinfo=UTC).timestamp() * 1e6)
        assert committee._local_hour(con, "time", before, 0)[1] == ""
        assert committee._local_hour(con, "time", None, None)[1] == ""
        assert committee._local_hour(con, "time", 0, 10 * 3_600_000_000)[1].startswith("JOIN local_offsets")
    finally:
        con.close()
