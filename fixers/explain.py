"""A manual plan made only of the rule's own steps, with optional commands."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan
from engine.templates import regex_captures, render


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Show `params.commands` (templates over the finding's facts) as manual steps.

    The templates take the same placeholders as the rule's message, `{capture.NAME}` included.
    """
    captures = regex_captures(finding.rule.match.get("where"), finding.match)

    def fill(template: Any) -> str:
        return render(str(template), finding.match, finding.rule.aliases, captures)

    commands = tuple(
        CommandStep(tuple(shlex.split(fill(command)))) for command in params.get("commands", [])
    )
    description = fill(params.get("description", "by hand, as the steps below say"))
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="explain",
        safety="manual",
        description=description,
        commands=commands,
        steps=tuple(line for line in finding.rule.manual_steps.splitlines() if line.strip()),
    )
