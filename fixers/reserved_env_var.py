"""Remove a Lambda reserved key from a component's `environment` (a manual fix)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan deleting `environment.NAME` of the component the `sst.env_var` fact names.

    Manual: code that reads the variable then gets Lambda's own value (for
    AWS_REGION, the function's region), which may differ from what was set.
    """
    from deploykit import tsparse
    from deploykit.sstconfig import SstConfig

    fact = finding.fact
    if fact is None or fact.source.file is None:
        return None
    name = fact.get("name")
    component_name = fact.get("component")
    if not isinstance(name, str):
        return None

    relative = fact.source.file
    path = resolve_inside(context.root, relative)
    before = path.read_bytes()
    config = SstConfig(path, before)
    component = next((c for c in config.components if c.name == component_name), None)
    if component is None:
        return None
    environment = tsparse.get_member(component.args, "environment")
    member = next((m for key, m in tsparse.object_members(environment) if key == name), None)
    if member is None:
        return None

    after = tsparse.remove_member(before, member)
    where = f"{relative}:{tsparse.line(member)}"
    return FixPlan(
        rule_id=finding.rule.id, fixer="reserved-env-var", safety="manual",
        description=(
            f"remove the reserved key `{name}` from `environment` of `{component_name}` at {where}"
        ),
        edits=(FileEdit(relative, before, after),),
        steps=(
            f"Remove `{name}` as the diff shows: Lambda sets it itself and rejects it "
            "in a function's configuration.",
            f"Or rename it instead (for example to `APP_{name}`) and update the code that "
            f"reads `process.env.{name}`.",
        ),
    )
