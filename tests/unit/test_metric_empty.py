"""``-- empty-without:`` in a metric's header is a claim the runner acts on (a bucket without those kinds is not
queried): each claim is held to the metric's SQL, and the runner's answer to the query's."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
import yaml

from auditor import api, schemas
from auditor.metrics.catalog import metrics
from auditor.metrics.runner import MetricRunner, _strip_header
from auditor.policy import Policy, parse_policy
from auditor.synth import write_exports
from auditor.synth.world import World

CLAIMS = [spec for spec in metrics().values() if spec.empty_without]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pa.Table], Policy]:
    """The demo world, whose identity map links badges, acts and positions to one person (every claim's
    metric has rows there)."""
    out = tmp_path_factory.mktemp("world")
    world = World(seed=11)
    write_exports(out / "exports", world)
    return api.load([out / "exports"]).tables, parse_policy(yaml.safe_dump(world.policy(), allow_unicode=True))


def _queried(tables: dict[str, pa.Table], policy: Policy, name: str) -> pa.Table:
    """The metric's SQL itself, run after what it requires (never the runner's shortcut)."""
    with MetricRunner(tables, policy) as runner:
        for dependency in metrics()[name].requires:
            if dependency in metrics():
                runner.run(dependency)
        result: pa.Table = runner.con.sql(_strip_header(metrics()[name].sql)).to_arrow_table()
        return result


def test_the_claims_name_kinds() -> None:
    assert {spec.name for spec in CLAIMS} >= {"gps_time_source", "badge_latency", "clock_methods", "web_urls"}
    for spec in CLAIMS:
        assert set(spec.empty_without) <= set(schemas.KINDS), spec.name


@pytest.mark.parametrize("spec", CLAIMS, ids=lambda spec: spec.name)
def test_without_those_kinds_the_query_has_no_row(world: tuple[dict[str, pa.Table], Policy], spec: Any) -> None:
    tables, policy = world
    assert _queried(tables, policy, spec.name).num_rows > 0  # with those kinds it has rows: not a vacuous claim
    emptied = {**tables, **{kind: schemas.empty_table(kind) for kind in spec.empty_without}}
    queried = _queried(emptied, policy, spec.name)
    assert queried.num_rows == 0
    with MetricRunner(emptied, policy) as runner:  # the runner's shortcut: the same columns, no row
        assert runner.run(spec.name).equals(queried)
