"""Run compiled rules over indexed facts and turn matches into findings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from engine.facts import FactIndex, Source
from engine.model import Finding, Match, Rule
from engine.templates import regex_captures, render

LINE_BREAKS = re.compile(r"[\r\n\t\v\f]+")


def evaluate(rules: Sequence[Rule], index: FactIndex) -> list[Finding]:
    """Return the findings of `rules` over `index`, in rule order."""
    findings: list[Finding] = []
    for rule in rules:
        if not rule.enabled:
            continue
        for match in rule.matcher(index):
            findings.append(make_finding(rule, match))
    return findings


def make_finding(rule: Rule, match: Match) -> Finding:
    captures = None
    if "{capture." in rule.message:
        captures = regex_captures(rule.match.get("where"), match)
    # A message is one line: a field such as a command line may contain newlines.
    message = LINE_BREAKS.sub(" ", render(rule.message, match, rule.aliases, captures))
    return Finding(rule=rule, message=message, evidence=_evidence(match), match=match)


def _evidence(match: Match) -> tuple[Source, ...]:
    facts = ([match.primary] if match.primary is not None else []) + list(match.joined)
    sources: list[Source] = []
    for fact in facts:
        if fact.source.describe() and fact.source not in sources:
            sources.append(fact.source)
    return tuple(sources)


def needed_kinds(rules: Iterable[Rule]) -> set[str]:
    kinds: set[str] = set()
    for rule in rules:
        kinds |= rule.kinds
    return kinds
