"""Remove one key from `experimental` in next.config (a manual fix)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan deleting `experimental.KEY`, every other byte of the file unchanged.

    Manual: turning a feature off changes how the app renders, so the user
    chooses between this edit and installing a canary release of Next.js.
    """
    from deploykit import tsparse
    from deploykit.collectors.next_config import find_config_object

    fact = finding.fact
    if fact is None or fact.source.file is None:
        return None
    key = fact.get("key")
    if not isinstance(key, str):
        return None

    relative = fact.source.file
    path = resolve_inside(context.root, relative)
    before = path.read_bytes()
    tree = tsparse.parse_typescript(before)
    experimental = tsparse.get_member(find_config_object(tree.root_node), "experimental")
    member = next((m for name, m in tsparse.object_members(experimental) if name == key), None)
    if member is None:
        return None

    after = tsparse.remove_member(before, member)
    app = fact.get("app")
    folder = app if isinstance(app, str) and app != "." else "the app folder"
    return FixPlan(
        rule_id=finding.rule.id, fixer="remove-next-experimental", safety="manual",
        description=f"remove `experimental.{key}` from {relative}:{tsparse.line(member)}",
        edits=(FileEdit(relative, before, after),),
        steps=(
            f"Remove `experimental.{key}` as the diff shows; the feature turns off.",
            f"Or keep it and install a canary release in {folder}: `npm install next@canary` "
            "(or `pnpm add`, `yarn add`, `bun add` with the same argument).",
        ),
    )
