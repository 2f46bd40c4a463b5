"""Every built-in rule loads, has its own cases, and passes them."""

from __future__ import annotations

import pytest

from deploykit.diagnosis import load_rules
from engine.rulecases import run_cases

RULES = load_rules()


def test_builtin_rules_load() -> None:
    assert RULES


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_builtin_rule_cases(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.must_match, f"{rule.id} ({rule.location}) has no must-match case"
    assert rule.must_not_match, f"{rule.id} ({rule.location}) has no must-not-match case"
    failures = [r for r in run_cases(rule) if not r.passed]
    assert not failures, "; ".join(
        f"case at line {r.case.line}: expected {'a match' if r.expected_match else 'no match'}"
        for r in failures
    )
