"""Rules, findings and the values they are made of."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from engine.facts import Fact, FactIndex, Source

if TYPE_CHECKING:
    from engine.plan import FixPlan

Severity = Literal["error", "warning", "info"]
Safety = Literal["safe", "manual"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SCOPES: tuple[str, ...] = ("doctor", "dev", "deploy", "triage")
SAFETIES: tuple[Safety, ...] = ("safe", "manual")


@dataclass(frozen=True)
class Match:
    """One way a rule's condition held: the primary fact and any joined facts."""

    primary: Fact | None
    joined: tuple[Fact, ...] = ()


MatchFn = Callable[[FactIndex], list[Match]]


@dataclass(frozen=True)
class FixSpec:
    """The fix a rule requests: a fixer name, its parameters and the safety claimed."""

    fixer: str
    safety: Safety
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleCase:
    """A rule's own test case: facts (or log text) that must or must not match."""

    facts: tuple[Fact, ...]
    log: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    scopes: frozenset[str]
    message: str
    why: str
    manual_steps: str
    match: Mapping[str, Any]
    matcher: MatchFn = field(compare=False, repr=False)
    kinds: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()
    fix: FixSpec | None = None
    must_match: tuple[RuleCase, ...] = ()
    must_not_match: tuple[RuleCase, ...] = ()
    references: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    pack: str = "builtin"
    enabled: bool = True

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    """A rule that matched: its message, evidence and the fix planned for it."""

    rule: Rule
    message: str
    evidence: tuple[Source, ...]
    match: Match
    plan: FixPlan | None = None
    fixed: bool = False
    verified: bool | None = None

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def fact(self) -> Fact | None:
        return self.match.primary

    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Identity used to tell whether a finding is still there after a fix."""
        return (self.rule.id, self.message, tuple(s.describe() for s in self.evidence))
