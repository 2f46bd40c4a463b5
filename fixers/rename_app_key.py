"""Rename a key of the object app() returns in sst.config.ts, such as `provider`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan
from fixers.params import Param

PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan": {
        "renames": Param(
            "json", "mapping of a misspelled app() key to the key SST reads", required=True,
        ),
    },
}


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan renaming `key` to `params.renames[key]`, splicing only the key's bytes.

    `params.renames` maps a misspelled key to the key SST reads. A key with no
    entry gets no plan. When the target key already exists the two objects
    must be merged by hand, so the plan is manual and only describes the step.
    """
    from deploykit import tsparse
    from deploykit.sstconfig import SstConfig

    fact = finding.fact
    renames = params.get("renames", {})
    if fact is None or fact.source.file is None or not isinstance(renames, Mapping):
        return None
    old_key = str(fact.get("key"))
    new_key = renames.get(old_key)
    if not isinstance(new_key, str) or not new_key.isidentifier():
        return None

    relative = fact.source.file
    path = resolve_inside(context.root, relative)
    before = path.read_bytes()
    config = SstConfig(path, before)
    member = config.app_member(old_key)
    key_node = member.child_by_field_name("key") if member is not None else None
    if member is None or key_node is None:
        return None
    where = f"{relative}:{tsparse.line(member)}"

    if config.app_member(new_key) is not None:
        return FixPlan(
            rule_id=finding.rule.id, fixer="rename-app-key", safety="manual",
            description=f"merge `{old_key}` into the existing `{new_key}` in app() at {where}",
            steps=(
                f"app() returns both `{old_key}` and `{new_key}`; move the entries of "
                f"`{old_key}` into `{new_key}` and delete `{old_key}`.",
            ),
        )

    after = tsparse.replace_span(before, key_node.start_byte, key_node.end_byte, new_key.encode())
    return FixPlan(
        rule_id=finding.rule.id, fixer="rename-app-key", safety="safe",
        description=f"rename `{old_key}` to `{new_key}` in app() at {where}",
        edits=(FileEdit(relative, before, after),),
    )
