"""One personal report per person: the identity map gathers a login, a staff number and an e-mail."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import yaml

from auditor import api
from auditor.policy import load_policy
from auditor.report import personal, render
from auditor.report.people import Person, find, people
from auditor.report.write import Options, write_all
from auditor.rules.engine import audit
from auditor.synth import write_exports
from auditor.synth.world import World


def _tables() -> dict[str, pa.Table]:
    return {
        "clock_events": pa.table({"tool": ["kelio", "kelio", "zkteco"], "agent": ["012889", "030260", "12889"]}),
        "appointments": pa.table({"tool": ["esirius", "esirius"], "agent": ["bdubois", "rlegrand"]}),
    }


def test_declared_identifiers_make_one_person_and_the_rest_stay_apart(tmp_path: Path) -> None:
    declaration = tmp_path / "policy.yaml"
    declaration.write_text(yaml.safe_dump({"identity": [
        {"person": "Benoît Dubois", "ids": {"*": ["bdubois", "012889"], "zkteco": "12889"}},
    ]}), encoding="utf-8")
    found = people(_tables(), load_policy(declaration))
    assert [p.name for p in found] == ["030260", "Benoît Dubois", "rlegrand"]
    benoit = found[1]
    assert benoit.identifiers == ["012889", "12889", "bdubois"]
    assert benoit.owns("zkteco", "12889") and not benoit.owns("kelio", "12889")
    assert find(found, "bdubois") is benoit and find(found, "Benoît Dubois") is benoit
    assert find(found, "nobody") is None


def test_without_a_declaration_every_identifier_is_a_person() -> None:
    found = people(_tables(), None)
    assert [p.name for p in found] == ["012889", "030260", "12889", "bdubois", "rlegrand"]
    assert all(len(p.identifiers) == 1 for p in found)


def test_mask_keeps_only_the_persons_pairs() -> None:
    table = _tables()["clock_events"]
    person = Person("x", frozenset({("zkteco", "12889"), ("*", "030260")}))
    assert table.filter(person.mask(table)).column("agent").to_pylist() == ["030260", "12889"]


def test_demo_world_gives_one_report_per_person_with_all_their_identifiers(tmp_path: Path) -> None:
    world = World(seed=5, agents_count=5, days=2)
    exports = tmp_path / "exports"
    write_exports(exports, world)
    declaration = tmp_path / "policy.yaml"
    declaration.write_text(yaml.safe_dump(world.policy(), allow_unicode=True), encoding="utf-8")
    dataset = api.load([exports / "esirius-agenda-csv.csv", exports / "kelio-clockings-csv.csv",
                        exports / "m365-unified-audit-csv.csv"])
    result = audit(dataset, load_policy(declaration))
    written = write_all(dataset, result, tmp_path / "out", Options("fr", 5, ("html", "json"), b"k" * 32))
    reports = sorted(p for p in written if p.name == "report.json")
    assert len(reports) == len(world.agents)
    agent = world.agents[0]
    view = personal.build(dataset, result, find(people(dataset.tables, result.policy), agent.login), "fr")
    assert view["agent"] == agent.name
    assert {agent.login, agent.matricule} <= set(view["identifiers"])
    assert {"esirius", "kelio", "microsoft-365"} <= {tool["tool"] for tool in view["tools"]}
    text = render.render(view, "json")
    for other in world.agents[1:]:
        assert other.login not in text and other.matricule not in text and other.name not in text
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert all(a.name in index for a in world.agents)
    committee = (tmp_path / "out" / "committee.html").read_text(encoding="utf-8")
    assert not any(a.name in committee or a.login in committee for a in world.agents)
