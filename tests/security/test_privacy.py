"""Privacy invariants (DESIGN §9.2–9.3) as properties over generated multi-agent employers.

Hypothesis draws a synthetic world (seed, number of agents, days) and a k; the world's exports are read and
audited, and ``write_all`` writes the reports. Only the written files are inspected — never the view
models, which are being reworked:

* a personal report folder names one agent and holds no identifier or distinctive value of any other;
* the committee files contain no raw identifier (login, name, staff number, device, IP address);
* no agent count between 1 and k-1 is shown, and a group below k lists no pseudonym and no per-agent row;
* pseudonyms are the same for one key, and two keys give unrelated ones; real identifiers appear only with
  ``raw_identifiers`` (``auditor audit --raw-identifiers``).
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import api
from auditor.model import Dataset
from auditor.report.write import Options, write_all
from auditor.rules.engine import AuditResult, audit
from auditor.sources.base import Source
from auditor.synth import plan
from auditor.synth.world import World
from tests.security.conftest import examples

#: Formats keyed by the agents' logins (the badge formats use staff numbers, a separate identity).
PARSERS = ("esirius-agenda-csv", "positions-csv", "qmatic-statdb-csv", "squid-native")
PSEUDONYM = re.compile(r"\bA-[A-Z2-7]{10}\b")
KEY_A, KEY_B = b"\x01" * 32, b"\x02" * 32

worlds = st.builds(World, seed=st.integers(0, 10_000), agents_count=st.integers(2, 8), days=st.integers(1, 2))


@functools.cache
def _audited(seed: int, agents: int, days: int) -> tuple[World, Dataset, AuditResult]:
    """The world's exports (logins only) read and audited, once per world for every property."""
    world = World(seed=seed, agents_count=agents, days=days)
    files = [Source.from_bytes(parser.render(rows), Path(name).name)
             for parser, name, rows in plan(world) if parser.name in PARSERS]
    dataset = api.load(files)
    return world, dataset, audit(dataset)


def _run(world: World, k: int, key: bytes, out: Path, personal: bool = True,
         raw: bool = False) -> tuple[Dataset, Path]:
    _, dataset, result = _audited(world.seed, world.agents_count, world.days)
    agents = None if personal else []
    options = Options(lang="fr", k=k, formats=("html", "md", "json"), key=key, raw_identifiers=raw)
    write_all(dataset, result, out, options, agents=agents)
    return dataset, out


def _texts(folder: Path, pattern: str = "*") -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(folder.glob(pattern)) if p.is_file()}


def _identifiers(world: World, dataset: Dataset) -> set[str]:
    """Everything that names an agent: logins, names, staff numbers, devices, client addresses."""
    found = {a.login for a in world.agents} | {a.name for a in world.agents} | {a.matricule for a in world.agents}
    for table in dataset.tables.values():
        for column in ("agent", "device", "client_ip"):
            if column in table.column_names:
                found.update(v for v in table.column(column).to_pylist() if v)
    return {v for v in found if len(v) >= 4}


def _others(dataset: Dataset, agent: str) -> set[str]:
    """Identifiers and distinctive values (devices, tickets, URLs, addresses) of other agents only."""
    own: set[str] = set()
    theirs: set[str] = set()
    for table in dataset.tables.values():
        mine = pc.equal(table.column("agent"), agent)
        for column in ("agent", "device", "ticket", "url", "client_ip"):
            if column in table.column_names:
                own.update(v for v in table.filter(mine).column(column).to_pylist() if v)
                theirs.update(v for v in table.filter(pc.invert(mine)).column(column).to_pylist() if v)
    return {v for v in theirs - own if len(v) >= 4}


@given(world=worlds)
@settings(max_examples=examples(4))
def test_a_personal_report_holds_its_agent_and_no_one_else(world: World) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dataset, out = _run(world, 5, KEY_A, Path(tmp))
        logins = set(dataset.agents())
        folders = sorted(p for p in (out / "agents").iterdir() if p.is_dir())
        owners = []
        for folder in folders:
            text = "\n".join(_texts(folder, "**/*").values())
            named = {login for login in logins if re.search(rf"\b{re.escape(login)}\b", text)}
            assert len(named) == 1, (folder.name, sorted(named))
            [owner] = named
            owners.append(owner)
            forbidden = _others(dataset, owner)
            assert forbidden  # otherwise the check below proves nothing
            leaked = sorted(v for v in forbidden if v in text)
            assert not leaked, (owner, leaked[:5])
        assert sorted(owners) == sorted(logins)  # one report each, no one left out


def _count_fields(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every value whose key speaks of agents, anywhere in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if "agent" in key and not isinstance(value, dict | list):
                yield f"{path}.{key}", value
            yield from _count_fields(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _count_fields(value, f"{path}[{index}]")


def _small_groups(node: Any, k: int) -> Iterator[dict[str, Any]]:
    """Every JSON object whose agent count is suppressed or below k."""
    if isinstance(node, dict):
        counts = [v for key, v in node.items() if key in ("agents", "agents_affected", "agents_observed")]
        if any(isinstance(v, str) or (isinstance(v, int) and 0 < v < k) for v in counts):
            yield node
        for value in node.values():
            yield from _small_groups(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from _small_groups(value, k)


@given(world=worlds, k=st.integers(2, 10))
@settings(max_examples=examples(6))
def test_committee_files_suppress_small_groups_and_name_no_one(world: World, k: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dataset, out = _run(world, k, KEY_A, Path(tmp), personal=False)
        committee = _texts(out, "committee*")  # the reports and committee-findings.csv
        assert {".html", ".md", ".json"} <= {p.suffix for p in committee}
        identifiers = _identifiers(world, dataset)
        for path, text in committee.items():
            leaked = sorted(v for v in identifiers if v in text)
            assert not leaked, (path.name, leaked[:5])
        data = json.loads(committee[out / "committee.json"])
        counts = list(_count_fields(data))
        assert counts  # the report states agent counts somewhere (a rename of the fields must show here)
        for where, value in counts:
            if isinstance(value, int) and not isinstance(value, bool):
                assert value == 0 or value >= k, (where, value, k)
        for group in _small_groups(data, k):
            listed = json.dumps(group, ensure_ascii=False)
            assert not PSEUDONYM.search(listed), group
            assert not group.get("per_agent"), group
        shown = set(PSEUDONYM.findall(committee[out / "committee.json"]))
        for path, text in committee.items():  # charts and examples in HTML/Markdown show no one more
            assert set(PSEUDONYM.findall(text)) <= shown, path.name
        if len(dataset.agents()) < k:
            assert not shown


@given(world=worlds)
@settings(max_examples=examples(3))
def test_pseudonyms_are_stable_for_a_key_and_unlinkable_across_keys(world: World) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, key, raw in (("a1", KEY_A, False), ("a2", KEY_A, False), ("b", KEY_B, False), ("raw", KEY_A, True)):
            dataset, out = _run(world, 2, key, Path(tmp) / name, personal=False, raw=raw)
            runs[name] = (out / "committee.json").read_text(encoding="utf-8")
        first = PSEUDONYM.findall(runs["a1"])
        assert first, "k=2 over at least two agents shows some pseudonyms"
        assert runs["a1"] == runs["a2"]  # same key, same report, same pseudonyms in the same places
        assert not set(first) & set(PSEUDONYM.findall(runs["b"]))
        logins = set(dataset.agents())
        assert not any(login in runs["a1"] for login in logins)
        named = [f for f in json.loads(runs["raw"]).get("findings", []) if f.get("pseudonyms")]
        if named:  # real identifiers beside the pseudonyms of a shown group, only when explicitly asked
            assert any(login in runs["raw"] for login in logins)
