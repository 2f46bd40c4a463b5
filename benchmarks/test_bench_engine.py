"""The matcher alone: 10,000 facts against 200 rules (target at most 100 ms on 2 cores)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.facts import Fact, FactIndex, Source
from engine.matcher import evaluate
from engine.matching import compile_match
from engine.model import Rule

KINDS = 20
FACTS_PER_KIND = 500
RULES = 200


def make_rule(number: int) -> Rule:
    kind = f"kind{number % KINDS}"
    shapes: list[dict[str, Any]] = [
        {"kind": kind, "where": {"field": "port", "op": "==", "value": number}},
        {
            "kind": kind,
            "where": {
                "all": [
                    {"field": "port", "op": ">", "value": 400},
                    {"field": "name", "op": "regex", "value": f"^svc-{number}[0-9]$"},
                ]
            },
        },
        {
            "kind": kind,
            "where": {
                "any": [
                    {"field": "tags", "op": "contains", "value": f"t{number}"},
                    {"field": "port", "op": "in", "value": [number, number + 1]},
                ]
            },
        },
        {
            "kind": kind,
            "where": {"field": "port", "op": "==", "value": number},
            "join": {"kind": f"kind{(number + 1) % KINDS}", "as": "other", "on": {"port": "port"}},
        },
        {
            "kind": kind,
            "where": {"not": {"field": "enabled", "op": "==", "value": True}},
            "absent": {"kind": f"kind{(number + 2) % KINDS}", "on": {"name": "name"}},
        },
    ]
    match = shapes[number % len(shapes)]
    matcher, kinds, aliases = compile_match(match)
    return Rule(
        id=f"bench/rule-{number}",
        title="t",
        severity="warning",
        scopes=frozenset({"doctor"}),
        message="{name} on {port}",
        why="w",
        manual_steps="m",
        match=match,
        matcher=matcher,
        kinds=kinds,
        aliases=aliases,
    )


@pytest.fixture(scope="module")
def workload() -> tuple[list[Rule], FactIndex]:
    rules = [make_rule(number) for number in range(RULES)]
    facts = FactIndex(
        Fact(
            f"kind{kind}",
            {
                "port": number,
                "name": f"svc-{number}",
                "tags": [f"t{number}", "x"],
                "enabled": number % 7 == 0,
            },
            Source(file="f.ts", line=number + 1),
        )
        for kind in range(KINDS)
        for number in range(FACTS_PER_KIND)
    )
    return rules, facts


def test_bench_engine_10000_facts_200_rules(
    benchmark: Any, workload: tuple[list[Rule], FactIndex]
) -> None:
    rules, facts = workload
    assert len(facts) == 10_000

    findings = benchmark(evaluate, rules, facts)

    assert findings
