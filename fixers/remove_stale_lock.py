"""Delete a stale lock file: a deployment lock or a local SST/Pulumi lock under `.sst/`.

The plan is a deletion with the exact bytes read now, so the fix loop refuses
to apply it if the lock changed since (another deploy took it over). Each case
is checked again here, not trusted from the facts:

- `lock.file`: only when the lock has expired or its holder pid is dead on
  this host.
- `sst.local_lock`: only when no SST process runs for the project and the
  recorded holder pid (if any) is dead on this host.

Otherwise the plan is manual: the steps name the holder to check first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploykit.collectors.processes import project_sst_processes
from deploykit.locks import MalformedLockError, format_time
from deploykit.locks.file_lock import parse_lock_bytes
from deploykit.procinfo import pid_alive
from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan
from fixers.params import Param

NAME = "remove-stale-lock"
PARAMETERS: Mapping[str, Mapping[str, Param]] = {"plan": {}}


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan deleting the lock file named by the finding's `path`, when it is stale."""
    fact = finding.fact
    if fact is None or not isinstance(fact.get("path"), str):
        return None
    relative = str(fact.get("path"))
    try:
        before = resolve_inside(context.root, relative).read_bytes()
    except FileNotFoundError:
        return None  # already gone

    if fact.kind == "lock.file":
        reason, blocker = _deployment_lock_state(before, relative)
    else:
        reason, blocker = _local_lock_state(context, fact.get("pid"))

    if blocker is not None:
        return FixPlan(
            rule_id=finding.rule.id,
            fixer=NAME,
            safety="manual",
            description=f"check {relative} before deleting it: {blocker}",
            steps=(blocker, f"When that is confirmed finished, delete `{relative}`."),
        )
    return FixPlan(
        rule_id=finding.rule.id,
        fixer=NAME,
        safety="safe",
        description=f"delete {relative}: {reason}",
        edits=(FileEdit(relative, before, None),),
    )


def _deployment_lock_state(content: bytes, relative: str) -> tuple[str, str | None]:
    """Return why the lock is stale, or (empty, the reason it must be kept)."""
    try:
        info = parse_lock_bytes(content, relative)
    except MalformedLockError as error:
        return "", f"{error}, so deploy-kit cannot tell whether its deploy still runs"
    if info.expired():
        return f"it expired at {format_time(info.expires_at)}", None
    if info.holder_alive() is False:
        return f"its holder, pid {info.pid} on this host, is no longer running", None
    return "", f"the lock is held by {info.describe()}, which may still be deploying"


def _local_lock_state(context: FixContext, pid: Any) -> tuple[str, str | None]:
    running = project_sst_processes(context.root, context.facts)
    if running:
        listed = ", ".join(f"pid {p.get('pid')} (`{p.get('command')}`)" for p in running)
        return "", f"SST is running for this project ({listed}); stop it first"
    if isinstance(pid, int) and pid_alive(pid):
        return "", f"its holder, pid {pid}, is still running on this host"
    return "no SST process runs for this project", None
