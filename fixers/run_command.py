"""Show a command for the user to run: always a manual fix.

A command can do anything, so a rule cannot mark this fixer safe: the loader
rejects `safety: safe` because the catalog caps it at manual.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan
from engine.templates import render
from fixers.params import Param, check_relative_path

log = logging.getLogger(__name__)

PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan": {
        "command": Param(
            "argv",
            "command as a list of arguments, or a string split like a shell would; "
            "{field} placeholders allowed",
            required=True,
        ),
        "cwd": Param(
            "path", "folder to run it in, relative to the project root (default: the root)"
        ),
        "description": Param("string", "one-line description of what the command does"),
    },
}


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `command` as a manual step run from `cwd`."""
    aliases = finding.rule.aliases
    raw = params.get("command", [])
    if isinstance(raw, list):
        argv = tuple(render(str(part), finding.match, aliases) for part in raw)
    else:
        # Placeholders are filled before splitting, so a value with spaces in a
        # string command becomes several arguments; use the list form for those.
        argv = tuple(shlex.split(render(str(raw), finding.match, aliases)))
    if not argv:
        return None
    cwd = render(str(params.get("cwd", ".")), finding.match, aliases) or "."
    problem = check_relative_path(cwd) if cwd != "." else None
    if problem is not None:
        log.warning("rule %s: no command planned: %s", finding.rule.id, problem)
        return None

    step = CommandStep(argv, description=finding.rule.title, cwd=cwd)
    description = render(
        str(params.get("description", f"run {step.display()}")), finding.match, aliases
    )
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="run-command",
        safety="manual",
        description=description,
        commands=(step,),
        steps=tuple(line for line in finding.rule.manual_steps.splitlines() if line.strip()),
    )
