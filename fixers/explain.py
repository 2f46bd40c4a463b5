"""A manual plan made only of the rule's own steps, with optional commands."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan
from engine.templates import render


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Show `params.commands` (templates over the finding's facts) as manual steps."""
    commands = tuple(
        CommandStep(tuple(shlex.split(render(str(command), finding.match, finding.rule.aliases))))
        for command in params.get("commands", [])
    )
    description = render(str(params.get("description", finding.rule.title)), finding.match, finding.rule.aliases)
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="explain",
        safety="manual",
        description=description,
        commands=commands,
        steps=tuple(line for line in finding.rule.manual_steps.splitlines() if line.strip()),
    )
