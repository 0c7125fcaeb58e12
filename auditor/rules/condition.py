"""The rule condition language: a tree of all/any/not over (field, operator, value) leaves.

A condition compiles to a DuckDB boolean expression over one metric's rows. Field names must be
columns of that metric (checked, then double-quoted); values are bound parameters. Nothing from a
rule file is ever evaluated as Python or pasted into SQL as a value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

COMPARISONS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
Condition = dict[str, Any]


class ConditionError(ValueError):
    """A condition names a column the metric does not have, or an operator it does not know."""


def fields(condition: Condition) -> Iterator[str]:
    """Every column a condition reads."""
    if "all" in condition or "any" in condition:
        parts: list[Condition] = condition["all"] if "all" in condition else condition["any"]
        for part in parts:
            yield from fields(part)
    elif "not" in condition:
        yield from fields(condition["not"])
    else:
        yield condition["field"]
        if "other_field" in condition:
            yield condition["other_field"]


def compile_sql(condition: Condition, columns: Sequence[str]) -> tuple[str, list[Any]]:
    """``(expression, parameters)`` for ``WHERE``; raises ConditionError on an unknown column."""
    params: list[Any] = []
    expression = _compile(condition, set(columns), params)
    return expression, params


def _column(name: str, columns: set[str]) -> str:
    if name not in columns:
        raise ConditionError(f"unknown column {name!r} (the metric has {sorted(columns)})")
    return '"' + name + '"'


def _compile(condition: Condition, columns: set[str], params: list[Any]) -> str:
    if "all" in condition:
        return "(" + " AND ".join(_compile(c, columns, params) for c in condition["all"]) + ")"
    if "any" in condition:
        return "(" + " OR ".join(_compile(c, columns, params) for c in condition["any"]) + ")"
    if "not" in condition:
        return "(NOT coalesce(" + _compile(condition["not"], columns, params) + ", FALSE))"
    column = _column(condition["field"], columns)
    op = condition["op"]
    if op == "is_null":
        return f"({column} IS NULL)"
    if op == "not_null":
        return f"({column} IS NOT NULL)"
    if "other_field" in condition:
        if op not in COMPARISONS:
            raise ConditionError(f"operator {op!r} cannot compare two columns")
        return f"({column} {COMPARISONS[op]} {_column(condition['other_field'], columns)})"
    value = condition["value"]
    if op in COMPARISONS:
        params.append(value)
        return f"({column} {COMPARISONS[op]} ?)"
    if op in ("in", "not_in"):
        values = value if isinstance(value, list) else [value]
        params.append(values)
        test = f"list_contains(?, {column})"
        return f"({test})" if op == "in" else f"(NOT coalesce({test}, FALSE))"
    if op == "has":  # a list column holds the value
        params.append(value)
        return f"(list_contains({column}, ?))"
    raise ConditionError(f"unknown operator {op!r}")
