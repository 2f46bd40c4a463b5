"""Stop the process listening on a port: always manual, because it may be someone's work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan
from fixers.port_holders import PORT_PARAMETERS, finding_port, port_holders

NAME = "stop-port-process"
PARAMETERS = PORT_PARAMETERS


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `kill PID` for each process listening on the finding's port."""
    port = finding_port(finding, params)
    if port is None:
        return None
    holders = port_holders(port, context)
    known = [holder for holder in holders if holder.pid is not None]
    find = f"lsof -nP -iTCP:{port} -sTCP:LISTEN"

    if not known:
        return FixPlan(
            rule_id=finding.rule.id,
            fixer=NAME,
            safety="manual",
            description=f"find and stop the process listening on port {port}",
            steps=(
                f"Find the process listening on port {port}: `{find}` "
                "(run it as the owner of that process, or with sudo).",
                "Stop it (Ctrl+C in its terminal, or `kill PID`), then start the dev server again.",
            ),
        )

    listed = ", ".join(holder.describe() for holder in known)
    return FixPlan(
        rule_id=finding.rule.id,
        fixer=NAME,
        safety="manual",
        description=f"stop {listed}, which listens on port {port}",
        commands=tuple(
            CommandStep(("kill", str(holder.pid)), description=f"stop {holder.describe()}")
            for holder in known
        ),
        steps=(
            f"Port {port} is held by {listed}.",
            "If it is an old dev server, stop it (Ctrl+C in its terminal, or the command "
            "below), then start the dev server again.",
        ),
    )
