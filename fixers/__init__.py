"""Fixers: each module repairs one kind of problem.

`CATALOG` lists every fixer with the most it may be trusted with. A rule that
names a fixer with a higher safety than its maximum is rejected when it loads.
Add a fixer by writing `fixers/NAME.py` with a function
`plan(finding, context, params) -> FixPlan | None` and one line below.
"""

from __future__ import annotations

from engine.fixing import FixerRegistry, FixerSpec

CATALOG: tuple[FixerSpec, ...] = (
    FixerSpec("explain", "manual", "fixers.explain:plan", "show the rule's manual steps"),
    FixerSpec("set-run-env", "safe", "fixers.set_run_env:plan", "set an environment variable for the next SST run"),
)


def registry() -> FixerRegistry:
    return FixerRegistry(CATALOG)
