"""Conditions and matches: every operator, all/any/not, joins, absence and RE2 patterns."""

from __future__ import annotations

from typing import Any

import pytest

from engine.conditions import ConditionError, compile_condition
from engine.facts import Fact, FactIndex, Source
from engine.matcher import evaluate
from engine.matching import compile_match
from engine.model import Rule
from engine.patterns import PatternError, compile_pattern

PORT = Fact(
    "port.listener",
    {"port": 3000, "pid": 412, "command": "node next dev", "tags": ["dev", "next"], "ok": True},
    Source(command="lsof -iTCP:3000"),
)


def holds(condition: dict[str, Any], fact: Fact = PORT) -> bool:
    return compile_condition(condition)(fact)


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("==", 3000, True),
        ("==", 3001, False),
        ("!=", 3001, True),
        ("!=", 3000, False),
        ("<", 3001, True),
        ("<", 3000, False),
        ("<=", 3000, True),
        ("<=", 2999, False),
        (">", 2999, True),
        (">", 3000, False),
        (">=", 3000, True),
        (">=", 3001, False),
        ("in", [80, 3000], True),
        ("in", [80, 443], False),
        ("not in", [80, 443], True),
        ("not in", [3000], False),
    ],
)
def test_condition_numeric_operators(op: str, value: Any, expected: bool) -> None:
    assert holds({"field": "port", "op": op, "value": value}) is expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("command", "next", True),
        ("command", "vite", False),
        ("tags", "dev", True),
        ("tags", "prod", False),
    ],
)
def test_condition_contains(field: str, value: str, expected: bool) -> None:
    assert holds({"field": field, "op": "contains", "value": value}) is expected


def test_condition_exists_true_and_false() -> None:
    assert holds({"field": "pid", "op": "exists", "value": True})
    assert holds({"field": "user", "op": "exists", "value": False})
    assert not holds({"field": "user", "op": "exists", "value": True})


def test_condition_missing_field_is_false_for_every_comparison() -> None:
    for op, value in (("==", 1), ("!=", 1), ("<", 1), (">", 1), ("in", [1]), ("not in", [1])):
        assert not holds({"field": "user", "op": op, "value": value}), op


def test_condition_true_does_not_equal_one() -> None:
    assert not holds({"field": "ok", "op": "==", "value": 1})
    assert holds({"field": "ok", "op": "==", "value": True})


def test_condition_incomparable_types_are_false() -> None:
    assert not holds({"field": "command", "op": "<", "value": 5})


def test_condition_dotted_path_into_list() -> None:
    assert holds({"field": "tags.1", "op": "==", "value": "next"})
    assert not holds({"field": "tags.5", "op": "exists", "value": True})


def test_condition_all_any_not() -> None:
    is_3000 = {"field": "port", "op": "==", "value": 3000}
    is_80 = {"field": "port", "op": "==", "value": 80}

    assert holds({"all": [is_3000, {"field": "pid", "op": ">", "value": 0}]})
    assert not holds({"all": [is_3000, is_80]})
    assert holds({"any": [is_80, is_3000]})
    assert not holds({"any": [is_80, {"field": "pid", "op": "==", "value": 1}]})
    assert holds({"not": is_80})
    assert not holds({"not": is_3000})


def test_condition_regex_searches_with_re2() -> None:
    assert holds({"field": "command", "op": "regex", "value": r"next\s+dev$"})
    assert not holds({"field": "command", "op": "regex", "value": r"^dev"})
    assert type(compile_pattern(r"next\s+dev$")).__module__.startswith("re2")


@pytest.mark.parametrize("pattern", [r"foo(?=bar)", r"foo(?!bar)", r"(?<=a)b", r"(?<!a)b"])
def test_pattern_rejects_lookaround(pattern: str) -> None:
    with pytest.raises(PatternError, match="lookaround"):
        compile_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?P<x>a)(?P=x)"])
def test_pattern_rejects_backreference(pattern: str) -> None:
    with pytest.raises(PatternError, match="backreference"):
        compile_pattern(pattern)


def test_pattern_rejects_invalid_syntax() -> None:
    with pytest.raises(PatternError, match="not valid RE2 syntax"):
        compile_pattern(r"(unclosed")


def test_pattern_runs_in_linear_time_on_catastrophic_input() -> None:
    # (a+)+$ backtracks exponentially in stdlib `re`, but RE2 returns at once.
    pattern = compile_pattern(r"(a+)+$")

    assert pattern.search("a" * 5000 + "b") is None


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ({"field": "port", "op": "~=", "value": 1}, "op"),
        ({"field": "port", "op": "=="}, "value"),
        ({"field": "port", "op": "in", "value": 3000}, "value"),
        ({"field": "port", "op": "exists", "value": "yes"}, "value"),
        ({"field": "port", "op": "regex", "value": "(?=x)"}, "value"),
        ({"all": []}, "all"),
        ({"field": "", "op": "==", "value": 1}, "field"),
        ({"field": "port", "op": "==", "value": 1, "extra": 2}, "extra"),
    ],
)
def test_condition_errors_name_key(condition: dict[str, Any], key: str) -> None:
    with pytest.raises(ConditionError) as raised:
        compile_condition(condition)
    assert raised.value.key == key


def make_rule(match: dict[str, Any], message: str = "{port}") -> Rule:
    matcher, kinds, aliases = compile_match(match)
    return Rule(
        id="test/rule",
        title="t",
        severity="error",
        scopes=frozenset({"doctor"}),
        message=message,
        why="w",
        manual_steps="m",
        match=match,
        matcher=matcher,
        kinds=kinds,
        aliases=aliases,
    )


PROCESS = Fact("process", {"pid": 412, "name": "node"}, Source(command="ps"))
CONFIG = Fact("next.config", {"port": 3000}, Source(file="next.config.ts", line=4))


def test_match_join_on_field() -> None:
    rule = make_rule(
        {"kind": "port.listener", "join": {"kind": "process", "as": "proc", "on": {"pid": "pid"}}},
        "port {port} is used by {proc.name}",
    )

    findings = evaluate([rule], FactIndex([PORT, PROCESS]))

    assert [f.message for f in findings] == ["port 3000 is used by node"]
    assert findings[0].evidence == (PORT.source, PROCESS.source)


def test_match_join_without_partner_does_not_match() -> None:
    rule = make_rule({"kind": "port.listener", "join": {"kind": "process", "on": {"pid": "pid"}}})
    other = Fact("process", {"pid": 999, "name": "python"})

    assert evaluate([rule], FactIndex([PORT, other])) == []


def test_match_absent_kind() -> None:
    rule = make_rule({"absent": {"kind": "git.repo"}}, "not a git repository")

    assert len(evaluate([rule], FactIndex([PORT]))) == 1
    assert evaluate([rule], FactIndex([PORT, Fact("git.repo", {"inside": True})])) == []


def test_match_absent_on_field() -> None:
    rule = make_rule(
        {"kind": "next.config", "absent": {"kind": "port.listener", "on": {"port": "port"}}}
    )

    assert evaluate([rule], FactIndex([CONFIG, PORT])) == []
    assert len(evaluate([rule], FactIndex([CONFIG]))) == 1


def test_match_where_filters_primary_facts() -> None:
    rule = make_rule(
        {"kind": "port.listener", "where": {"field": "port", "op": ">", "value": 5000}}
    )
    high = Fact("port.listener", {"port": 8080})

    findings = evaluate([rule], FactIndex([PORT, high]))

    assert [f.message for f in findings] == ["8080"]


def test_match_one_finding_per_matching_fact() -> None:
    rule = make_rule({"kind": "port.listener"})
    second = Fact("port.listener", {"port": 3001})

    assert len(evaluate([rule], FactIndex([PORT, second]))) == 2


def test_match_message_keeps_unknown_placeholder() -> None:
    rule = make_rule({"kind": "port.listener"}, "{port} {nothing.here}")

    assert evaluate([rule], FactIndex([PORT]))[0].message == "3000 {nothing.here}"


def test_match_errors_name_key() -> None:
    with pytest.raises(ConditionError) as raised:
        compile_match({"kind": "x", "join": {"kind": "y", "on": {"a": 1}}})
    assert raised.value.key == "on"
    with pytest.raises(ConditionError) as raised:
        compile_match({"where": {"field": "a", "op": "==", "value": 1}})
    assert raised.value.key == "where"


def test_match_equality_index_keeps_condition_semantics() -> None:
    rule = make_rule(
        {"kind": "flag", "where": {"field": "value", "op": "==", "value": 1}}, "{value}"
    )
    facts = FactIndex(
        [
            Fact("flag", {"value": True}),
            Fact("flag", {"value": 1}),
            Fact("flag", {"value": 1.0}),
            Fact("flag", {}),
        ]
    )

    assert [f.message for f in evaluate([rule], facts)] == ["1", "1.0"]


def test_match_index_sees_facts_added_later() -> None:
    rule = make_rule(
        {"kind": "port.listener", "where": {"field": "port", "op": "==", "value": 8080}}
    )
    joined = make_rule(
        {"kind": "port.listener", "join": {"kind": "process", "on": {"pid": "pid"}}}, "{port}"
    )
    facts = FactIndex([PORT])
    assert evaluate([rule, joined], facts) == []

    facts.add(Fact("port.listener", {"port": 8080}))
    facts.add(PROCESS)

    assert [f.message for f in evaluate([rule, joined], facts)] == ["8080", "3000"]


def test_message_with_newline_field_is_one_line() -> None:
    holder = Fact("port.listener", {"port": 3000, "command": "python -c 'import x\nx.serve()'"})
    rule = make_rule({"kind": "port.listener"}, message="port {port} is held by {command}")
    (finding,) = evaluate([rule], FactIndex([holder]))
    assert "\n" not in finding.message
    assert finding.message == "port 3000 is held by python -c 'import x x.serve()'"
