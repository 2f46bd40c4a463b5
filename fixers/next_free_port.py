"""Run the next dev server on the first free port after the one in use.

The plan stores `PORT=N` for the next SST run (`env`), which changes no project
file and is undone by deleting the setting. Stopping the process listening
on the port is left to the person, as a step in the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import FixPlan
from fixers.port_holders import PORT_PARAMETERS, finding_port, port_holders

NAME = "next-free-port"
MAX_PROBED_PORTS = 20
PARAMETERS = PORT_PARAMETERS


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `PORT=N` for the next run, N the first free port after the finding's port."""
    port = finding_port(finding, params)
    if port is None:
        return None
    free = _next_free(finding, port)
    if free is None:
        return None

    holders = port_holders(port, context)
    listed = ", ".join(holder.describe() for holder in holders) or "another process"
    return FixPlan(
        rule_id=finding.rule.id,
        fixer=NAME,
        safety="safe",
        description=f"run the dev server on port {free}, because port {port} is held by {listed}",
        env={"PORT": str(free)},
        steps=(
            f"To keep port {port}, stop {listed} instead (Ctrl+C in its terminal, or `kill PID`).",
        ),
    )


def _next_free(finding: Finding, port: int) -> int | None:
    """Return the `next_free` the collector found, else probe the ports after `port` now."""
    from deploykit.procinfo import port_is_free

    fact = finding.fact
    recorded = fact.get("next_free") if fact is not None else None
    if isinstance(recorded, int) and not isinstance(recorded, bool) and port_is_free(recorded):
        return recorded
    for candidate in range(port + 1, min(port + 1 + MAX_PROBED_PORTS, 65536)):
        if port_is_free(candidate):
            return candidate
    return None
