"""Remove `fields` entries of an sst.aws.Dynamo table that no index uses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan deleting the `unindexed` fields of the table the `sst.dynamo` fact names.

    DynamoDB only takes attribute definitions for key attributes and stores
    every other attribute without one, so removing these entries changes no
    data. Each entry goes with its line and comma; the rest stays byte for byte.
    """
    fact = finding.fact
    if fact is None or fact.source.file is None:
        return None
    table = fact.get("name")
    unindexed = fact.get("unindexed")
    if not isinstance(table, str) or not isinstance(unindexed, list) or not unindexed:
        return None

    relative = fact.source.file
    path = resolve_inside(context.root, relative)
    before = path.read_bytes()
    after = remove_fields(path, before, table, [str(name) for name in unindexed])
    if after is None or after == before:
        return None
    names = ", ".join(f"`{name}`" for name in unindexed)
    return FixPlan(
        rule_id=finding.rule.id, fixer="drop-dynamo-fields", safety="safe",
        description=f"remove {names} from the `fields` of Dynamo `{table}` in {relative}",
        edits=(FileEdit(relative, before, after),),
    )


def remove_fields(path: Path, source: bytes, table: str, names: list[str]) -> bytes | None:
    """Return `source` without the `fields` entries `names` of Dynamo `table`."""
    from deploykit import tsparse
    from deploykit.sstconfig import SstConfig

    remaining = list(names)
    while remaining:
        config = SstConfig(path, source)
        component = next(
            (c for c in config.components if c.type == "Dynamo" and c.name == table), None
        )
        if component is None:
            return None
        fields = tsparse.get_member(component.args, "fields")
        member = next((m for key, m in tsparse.object_members(fields) if key in remaining), None)
        if member is None:
            break
        remaining.remove(str(tsparse.key_name(member)))
        source = tsparse.remove_member(source, member)
    return source
