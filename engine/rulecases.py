"""Run a rule's own test cases: facts (or log text) that must or must not match."""

from __future__ import annotations

from dataclasses import dataclass

from engine.facts import FactIndex
from engine.logfacts import facts_from_text
from engine.model import Rule, RuleCase


@dataclass(frozen=True)
class CaseResult:
    rule: Rule
    expected_match: bool
    matched: bool
    case: RuleCase

    @property
    def passed(self) -> bool:
        return self.expected_match == self.matched


def case_index(case: RuleCase) -> FactIndex:
    index = FactIndex(case.facts)
    if case.log is not None:
        index.extend(facts_from_text(case.log, file="<case>"))
    return index


def run_cases(rule: Rule) -> list[CaseResult]:
    results = []
    for expected, cases in ((True, rule.must_match), (False, rule.must_not_match)):
        for case in cases:
            matched = bool(rule.matcher(case_index(case)))
            results.append(CaseResult(rule, expected, matched, case))
    return results
