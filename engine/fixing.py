"""The fixer registry and fix planning.

Fixers are registered in a catalog of `module:function` targets so that loading
rules (which checks fixer names and safety) imports no fixer code.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.facts import FactIndex
from engine.model import Finding, Safety
from engine.paths import PathEscapeError
from engine.plan import FixPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FixContext:
    """The inputs a fixer may read: the project root, the stage and all collected facts."""

    root: Path
    facts: FactIndex
    stage: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


FixerFunction = Callable[[Finding, FixContext, Mapping[str, Any]], FixPlan | None]


@dataclass(frozen=True)
class FixerSpec:
    """A fixer: its name, the most it may be trusted with, and where its code is."""

    name: str
    max_safety: Safety
    target: str
    summary: str

    def load(self) -> FixerFunction:
        module_name, _, attribute = self.target.partition(":")
        function: FixerFunction = getattr(importlib.import_module(module_name), attribute)
        return function


class FixerRegistry:
    def __init__(self, specs: Iterable[FixerSpec] = ()) -> None:
        self._specs: dict[str, FixerSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: FixerSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"fixer {spec.name!r} is registered twice")
        self._specs[spec.name] = spec

    def get(self, name: str) -> FixerSpec | None:
        return self._specs.get(name)

    def max_safety(self, name: str) -> str | None:
        spec = self._specs.get(name)
        return spec.max_safety if spec else None

    def __iter__(self) -> Any:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))


def plan_fix(finding: Finding, context: FixContext, registry: FixerRegistry) -> Finding:
    """Attach a fix plan to `finding` when its rule names a fixer that proposes one.

    The plan's safety is the lowest of what the rule claims, what the fixer
    allows and what the fixer itself returned. So a fixer may downgrade a fix to
    manual (for example when an SST process is running) but never upgrade it.
    """
    spec = finding.rule.fix
    if spec is None:
        return finding
    fixer = registry.get(spec.fixer)
    if fixer is None:
        log.warning("rule %s names unknown fixer %s", finding.rule.id, spec.fixer)
        return finding
    try:
        plan = fixer.load()(finding, context, spec.params)
    except PathEscapeError as error:
        return replace(finding, plan=_unplanned(finding, spec.fixer, str(error)))
    except Exception as error:  # a broken fixer must not hide the finding itself
        log.debug("fixer %s failed for rule %s", spec.fixer, finding.rule.id, exc_info=True)
        log.warning("fixer %s failed for rule %s: %s", spec.fixer, finding.rule.id, error)
        reason = f"fixer {spec.fixer} failed ({type(error).__name__}: {error})"
        return replace(finding, plan=_unplanned(finding, spec.fixer, reason))
    if plan is None:
        return finding
    safety: Safety = "safe"
    if "manual" in (spec.safety, fixer.max_safety, plan.safety):
        safety = "manual"
    return replace(finding, plan=replace(plan, safety=safety, rule_id=finding.rule.id))


def _unplanned(finding: Finding, fixer: str, reason: str) -> FixPlan:
    """Return a manual plan that gives the reason no fix was planned, with the rule's steps."""
    return FixPlan(
        rule_id=finding.rule.id,
        fixer=fixer,
        safety="manual",
        description=f"no automatic fix: {reason}; follow the steps",
        steps=tuple(line for line in finding.rule.manual_steps.splitlines() if line.strip()),
    )
