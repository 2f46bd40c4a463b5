"""Compile YAML conditions into Python closures.

A condition is one of:

    {all: [COND, ...]}      every condition holds
    {any: [COND, ...]}      at least one holds
    {not: COND}             the condition does not hold
    {field: PATH, op: OP, value: VALUE}

OP is one of `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `contains`,
`regex` (RE2, search anywhere in the string) and `exists` (value true or false).
PATH is a dotted path into the fact's data. A comparison with a missing field,
or between values of types that do not compare, is false rather than an error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from engine.facts import MISSING, Fact, field_getter
from engine.patterns import compile_pattern

Predicate = Callable[[Fact], bool]

OPERATORS: tuple[str, ...] = (
    "==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "regex", "exists",
)

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConditionError(ValueError):
    """A condition that cannot be compiled; `key` names the offending key."""

    def __init__(self, message: str, node: Any = None, key: str | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.key = key


def compile_condition(node: Any) -> Predicate:
    """Return a predicate over one fact for the condition `node`."""
    if not isinstance(node, Mapping):
        raise ConditionError(f"a condition must be a mapping, got {_type_name(node)}", node)

    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        _only_keys(node, {key})
        items = node[key]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"`{key}` needs a non-empty list of conditions", node, key)
        parts = tuple(compile_condition(item) for item in items)
        if len(parts) == 1:
            return parts[0]
        # Plain loops: a generator per call costs more than most conditions.
        if key == "all":

            def every(fact: Fact) -> bool:
                for part in parts:  # noqa: SIM110 (no generator per call)
                    if not part(fact):
                        return False
                return True

            return every

        def some(fact: Fact) -> bool:
            for part in parts:  # noqa: SIM110 (no generator per call)
                if part(fact):
                    return True
            return False

        return some

    if "not" in node:
        _only_keys(node, {"not"})
        inner = compile_condition(node["not"])
        return lambda fact: not inner(fact)

    return _compile_leaf(node)


def _compile_leaf(node: Mapping[str, Any]) -> Predicate:
    _only_keys(node, {"field", "op", "value"})
    path = node.get("field")
    if not isinstance(path, str) or not path:
        raise ConditionError("`field` needs a dotted path such as `scripts.dev`", node, "field")
    op = node.get("op")
    if op not in OPERATORS:
        raise ConditionError(
            f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}", node, "op"
        )
    if "value" not in node:
        raise ConditionError(f"operator `{op}` needs a `value`", node, "value")
    expected = node["value"]
    get = field_getter(path)

    if op == "exists":
        if not isinstance(expected, bool):
            raise ConditionError("`exists` takes `value: true` or `value: false`", node, "value")
        return lambda fact: (get(fact) is not MISSING) is expected

    if op == "regex":
        if not isinstance(expected, str):
            raise ConditionError("`regex` needs a string pattern", node, "value")
        try:
            pattern = compile_pattern(expected)
        except ValueError as error:
            raise ConditionError(str(error), node, "value") from None
        search = pattern.search

        def matches(fact: Fact) -> bool:
            actual = get(fact)
            return isinstance(actual, str) and search(actual) is not None

        return matches

    if op in ("in", "not in"):
        if not isinstance(expected, list):
            raise ConditionError(f"`{op}` needs a list value", node, "value")
        options = tuple(expected)
        negate: bool = op == "not in"

        def member(fact: Fact) -> bool:
            actual = get(fact)
            if actual is MISSING:
                return False
            try:
                return (actual in options) != negate
            except TypeError:
                return False

        return member

    if op == "contains":

        def contains(fact: Fact) -> bool:
            actual = get(fact)
            if isinstance(actual, str):
                return isinstance(expected, str) and expected in actual
            if isinstance(actual, list | tuple | dict):
                return expected in actual
            return False

        return contains

    if op == "==":
        return lambda fact: _equal(get(fact), expected)
    if op == "!=":
        return lambda fact: (actual := get(fact)) is not MISSING and not _equal(
            actual, expected
        )

    compare = _ORDERING[op]

    def ordered(fact: Fact) -> bool:
        actual = get(fact)
        if actual is MISSING or actual is None or isinstance(actual, bool):
            return False
        try:
            return bool(compare(actual, expected))
        except TypeError:
            return False

    return ordered


def _equal(actual: Any, expected: Any) -> bool:
    if actual is MISSING:
        return False
    # YAML `true` must not equal the number 1.
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return bool(actual == expected)


def _only_keys(node: Mapping[str, Any], allowed: set[str]) -> None:
    for key in node:
        if key not in allowed:
            raise ConditionError(
                f"unknown key `{key}` in condition; expected {', '.join(sorted(allowed))}",
                node,
                str(key),
            )


def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
