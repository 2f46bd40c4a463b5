"""Compile a rule's `match` block into a function over indexed facts.

    match:
      kind: KIND            # primary fact kind: one finding per fact that matches
      where: COND           # condition over the primary fact
      join:                 # a fact (or list of facts) that must also exist
        kind: KIND
        as: NAME            # the name message templates use: `{NAME.field}`
        on: {PRIMARY_FIELD: JOINED_FIELD}
        where: COND
      absent:               # no fact (or list) of this kind may exist
        kind: KIND
        on: {PRIMARY_FIELD: OTHER_FIELD}
        where: COND

Without `kind`, the rule matches at most once: when every `join` finds a fact
and every `absent` finds none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.conditions import ConditionError, Predicate, compile_condition
from engine.facts import MISSING, Fact, FactIndex, field_getter
from engine.model import Match, MatchFn

MATCH_KEYS = ("kind", "where", "join", "absent")
RELATED_KEYS = ("kind", "as", "on", "where")


@dataclass(frozen=True)
class _Related:
    kind: str
    alias: str
    on: tuple[tuple[str, str], ...]
    where: Predicate | None

    def lookup(self, index: FactIndex) -> _Lookup:
        """Index this kind's facts that pass `where` by their `on` values.

        Without `where` the index depends only on the kind and the fields, so
        every rule that joins the same way shares one, kept in the fact index.
        """
        if self.where is None:
            key = ("lookup", self.kind, tuple(other for _, other in self.on))
            lookup: _Lookup = index.memo(key, lambda: _Lookup(self, index.of_kind(self.kind)))
            return lookup
        facts = [f for f in index.of_kind(self.kind) if self.where(f)]
        return _Lookup(self, facts)


_SCALARS = (str, int, float, bool, type(None))


class _Lookup:
    """The facts a `join` or `absent` may pair with, found by hash instead of a scan.

    Two facts are linked when every `on` pair of values is equal (`==`), so the
    key is the tuple of those values made hashable: equal values give equal keys.
    """

    def __init__(self, related: _Related, facts: list[Fact]) -> None:
        self.on = related.on
        self.facts = facts
        self.primary_getters = tuple(field_getter(field) for field, _ in self.on)
        other_getters = tuple(field_getter(field) for _, field in self.on)
        self.by_values: dict[Any, list[Fact]] = {}
        if not self.on:
            return
        for fact in facts:
            values = tuple(get(fact) for get in other_getters)
            if any(value is MISSING for value in values):
                continue
            self.by_values.setdefault(_hashable(values), []).append(fact)

    def candidates(self, primary: Fact | None) -> list[Fact]:
        if primary is None or not self.on:
            return self.facts
        if len(self.primary_getters) == 1:
            # The common `on: {field: field}`: no tuple or generator per primary fact.
            value = self.primary_getters[0](primary)
            if value is MISSING:
                return []
            key = (value,) if type(value) in _SCALARS else (_hashable(value),)
            return self.by_values.get(key, [])
        values = tuple(get(primary) for get in self.primary_getters)
        if any(value is MISSING for value in values):
            return []
        return self.by_values.get(_hashable(values), [])


def _required_equality(where: Any) -> tuple[str, Any] | None:
    """Return (field, value) when `where` can hold only if `field == value`.

    That is a `==` leaf with a scalar value, alone or inside `all`. The
    matcher then reads candidates from an index by that field and still
    applies the whole condition to each, so the result is unchanged.
    """
    if not isinstance(where, Mapping):
        return None
    if where.get("op") == "==" and isinstance(where.get("field"), str):
        value = where.get("value")
        if type(value) in _SCALARS and value is not None:
            return where["field"], value
        return None
    items = where.get("all")
    if isinstance(items, list):
        for item in items:
            found = _required_equality(item)
            if found is not None:
                return found
    return None


def _by_field(index: FactIndex, kind: str, field: str) -> dict[Any, list[Fact]]:
    by_value: dict[Any, list[Fact]] = {}
    get = field_getter(field)
    for fact in index.of_kind(kind):
        value = get(fact)
        if value is MISSING:
            continue
        by_value.setdefault(_hashable(value), []).append(fact)
    return by_value


def _hashable(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, Mapping):
        return frozenset((key, _hashable(item)) for key, item in value.items())
    return value


def compile_match(node: Any) -> tuple[MatchFn, frozenset[str], tuple[str, ...]]:
    """Return the match function, the fact kinds it reads and the join aliases."""
    if not isinstance(node, Mapping):
        raise ConditionError("`match` must be a mapping", node)
    for key in node:
        if key not in MATCH_KEYS:
            raise ConditionError(
                f"unknown key `{key}` in match; expected {', '.join(MATCH_KEYS)}", node, str(key)
            )

    kind = node.get("kind")
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise ConditionError("`kind` must be a fact kind such as `git.status`", node, "kind")
    if kind is None and "where" in node:
        raise ConditionError("`where` needs a `kind` to test", node, "where")
    where = compile_condition(node["where"]) if "where" in node else None
    equality = _required_equality(node.get("where"))

    joins = tuple(
        _compile_related(item, "join", i, kind) for i, item in enumerate(_listed(node, "join"))
    )
    absents = tuple(
        _compile_related(item, "absent", i, kind) for i, item in enumerate(_listed(node, "absent"))
    )
    if kind is None and not joins and not absents:
        raise ConditionError("`match` needs a `kind`, a `join` or an `absent`", node, "kind")

    kinds = {r.kind for r in joins + absents}
    if kind:
        kinds.add(kind)

    def match(index: FactIndex) -> list[Match]:
        primaries: list[Fact | None]
        if kind is None:
            primaries = [None]
        elif where is not None and equality is not None:
            field, value = equality
            by_value = index.memo(("equal", kind, field), lambda: _by_field(index, kind, field))
            primaries = [fact for fact in by_value.get(value, ()) if where(fact)]
        else:
            primaries = [fact for fact in index.of_kind(kind) if where is None or where(fact)]

        if not primaries:
            return []
        join_lookups = [related.lookup(index) for related in joins]
        absent_lookups = [related.lookup(index) for related in absents]
        matches: list[Match] = []
        for primary in primaries:
            joined: list[Fact] = []
            for lookup in join_lookups:
                found = lookup.candidates(primary)
                if not found:
                    break
                joined.append(found[0])
            else:
                if any(lookup.candidates(primary) for lookup in absent_lookups):
                    continue
                matches.append(Match(primary, tuple(joined)))
        return matches

    aliases = tuple(r.alias for r in joins)
    return match, frozenset(kinds), aliases


def _listed(node: Mapping[str, Any], key: str) -> list[Any]:
    value = node.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compile_related(node: Any, key: str, position: int, primary_kind: str | None) -> _Related:
    if not isinstance(node, Mapping):
        raise ConditionError(f"`{key}` must be a mapping with a `kind`", node, key)
    for name in node:
        if name not in RELATED_KEYS:
            raise ConditionError(
                f"unknown key `{name}` in {key}; expected {', '.join(RELATED_KEYS)}",
                node,
                str(name),
            )
    kind = node.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ConditionError(f"`{key}` needs a `kind`", node, "kind")

    on_node = node.get("on", {})
    if not isinstance(on_node, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in on_node.items()
    ):
        raise ConditionError(
            "`on` maps a field of the primary fact to a field of this fact, "
            "such as `on: {port: port}`",
            node,
            "on",
        )
    if on_node and primary_kind is None:
        raise ConditionError("`on` needs a primary `kind` in match", node, "on")

    alias = node.get("as", "joined" if position == 0 else f"joined{position}")
    if not isinstance(alias, str) or not alias.isidentifier():
        raise ConditionError("`as` must be a simple name such as `next`", node, "as")
    where = compile_condition(node["where"]) if "where" in node else None
    return _Related(kind, alias, tuple(on_node.items()), where)
