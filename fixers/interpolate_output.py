"""Replace a plain template literal or `+` over an Output with `$interpolate` (manual)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan the `$interpolate` replacement the `sst.output_misuse` fact suggests.

    Manual: the value changes from the text "Calling [toString] on an
    [Output<T>] is not supported" to the real one, which the code reading it
    may not expect yet.
    """
    from deploykit import tsparse
    from deploykit.sstconfig import SstConfig

    fact = finding.fact
    if fact is None or fact.source.file is None:
        return None
    line = fact.get("line")
    expression = fact.get("expression")

    relative = fact.source.file
    path = resolve_inside(context.root, relative)
    before = path.read_bytes()
    config = SstConfig(path, before)
    misuse = next(
        (m for m in config.output_misuses if m.line == line and m.expression == expression), None
    )
    if misuse is None:
        return None

    replacement = misuse.suggestion.encode()
    after = tsparse.replace_span(before, misuse.start_byte, misuse.end_byte, replacement)
    return FixPlan(
        rule_id=finding.rule.id, fixer="interpolate-output", safety="manual",
        description=f"use {misuse.suggestion} at {relative}:{misuse.line}",
        edits=(FileEdit(relative, before, after),),
        steps=(
            f"Replace {misuse.expression} with {misuse.suggestion}: `$interpolate` waits for "
            "the Output to resolve before building the string.",
        ),
    )
