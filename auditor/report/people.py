"""Who is who: the identifiers a person has across tools, from the employer's identity map.

One person shows up as a login in the agenda, a staff number on the time clock and an e-mail address in
the office suite. A personal report is about a person, so it gathers every identifier the declaration's
``identity`` section maps to them (per tool, or ``*`` for every tool). An identifier the map does not know
is a person of its own, named by the identifier: without a declaration, one report per identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from auditor.model import Dataset, tool_agent_pairs
from auditor.policy import Policy

ANY_TOOL = "*"


@dataclass(frozen=True)
class Person:
    """A display name and the (tool, identifier) pairs of the inputs that are theirs."""

    name: str
    ids: frozenset[tuple[str, str]]

    @classmethod
    def single(cls, identifier: str, pairs: Iterable[tuple[str, str]] = ()) -> Person:
        """An identifier on its own (no declaration links it to others)."""
        return cls(identifier, frozenset(pairs) or frozenset({(ANY_TOOL, identifier)}))

    @property
    def identifiers(self) -> list[str]:
        return sorted({agent for _, agent in self.ids})

    def owns(self, tool: str | None, agent: str) -> bool:
        return (tool, agent) in self.ids or (ANY_TOOL, agent) in self.ids

    @property
    def any_tool(self) -> bool:
        """True when every identifier is theirs in every tool (no per-tool pairs)."""
        return all(tool == ANY_TOOL for tool, _ in self.ids)

    def mask(self, table: pa.Table) -> Any:
        """Boolean mask of the rows of ``table`` (with ``tool`` and ``agent`` columns) that are theirs."""
        agents = table.column("agent")
        wildcard = [agent for tool, agent in self.ids if tool == ANY_TOOL]
        mask = pc.is_in(agents, value_set=pa.array(wildcard, pa.string()))
        by_tool: dict[str, list[str]] = {}
        for tool, agent in self.ids:
            if tool != ANY_TOOL:
                by_tool.setdefault(tool, []).append(agent)
        for tool, names in sorted(by_tool.items()):
            here = pc.and_(pc.equal(table.column("tool"), pa.scalar(tool, pa.string())),
                           pc.is_in(agents, value_set=pa.array(names, pa.string())))
            mask = pc.or_(mask, here)
        return pc.fill_null(mask, pa.scalar(False))


def pairs_in(tables: Dataset | Mapping[str, pa.Table]) -> set[tuple[str, str]]:
    """Every (tool, identifier) pair present in the inputs (a dataset finds them without loading a kind)."""
    return tables.tool_agents() if isinstance(tables, Dataset) else tool_agent_pairs(tables.values())


def people(tables: Dataset | Mapping[str, pa.Table], policy: Policy | None) -> list[Person]:
    """One Person per declared person found in the inputs (a dataset, or tables by kind), plus one per
    identifier left unmapped; sorted."""
    exact = {(tool, ident): person for person, tool, ident in (policy.identity if policy else ()) if tool != ANY_TOOL}
    anywhere = {ident: person for person, tool, ident in (policy.identity if policy else ()) if tool == ANY_TOOL}
    tool_specific = {ident for _, ident in exact}
    declared: dict[str, set[tuple[str, str]]] = {}
    alone: dict[str, set[tuple[str, str]]] = {}
    for tool, agent in sorted(pairs_in(tables)):
        person = exact.get((tool, agent)) or anywhere.get(agent)
        # an identifier no declaration ties to one tool is the same person's in every tool: ('*', id)
        pair = (tool, agent) if agent in tool_specific else (ANY_TOOL, agent)
        if person is not None:
            declared.setdefault(person, set()).add(pair)
        else:
            alone.setdefault(agent, set()).add(pair)
    found = [Person(name, frozenset(pairs)) for name, pairs in declared.items()]
    # an unmapped identifier that happens to equal a declared person's name must stay a different person
    found += [Person(agent if agent not in declared else f"{agent} #", frozenset(pairs))
              for agent, pairs in alone.items()]
    return sorted(found, key=lambda p: p.name)


def find(found: Iterable[Person], wanted: str) -> Person | None:
    """The person named ``wanted``, or the one who holds the identifier ``wanted``."""
    candidates = list(found)
    for person in candidates:
        if person.name == wanted:
            return person
    for person in candidates:
        if wanted in person.identifiers:
            return person
    return None
