"""Set an environment variable for the next SST run (stored, not exported)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import FixPlan
from engine.templates import render


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `params.name=params.value` for the SST process of this stage."""
    name = str(params.get("name", ""))
    value = render(str(params.get("value", "")), finding.match, finding.rule.aliases)
    if not name.isidentifier():
        return None
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="set-run-env",
        safety="safe",
        description=f"set {name}={value} for the next SST run",
        env={name: value},
    )
