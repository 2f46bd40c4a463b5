"""Release SST's state lock of one stage with `sst unlock --stage STAGE`.

The plan is only that command, run with the project's own SST binary through
its package manager: the lock object is never deleted from S3 directly, and
`sst unlock` never runs without `--stage` (that would unlock the personal
stage instead). The plan is safe only when the lock is proven stale: older
than `params.stale_after_minutes` (default 30), no SST process of this project
running for that stage, and no live deploy-kit file lock for the stage.
Anything short of that proof makes the plan manual.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.facts import Fact, FactIndex
from engine.fixing import FixContext
from engine.model import Finding, Safety
from engine.plan import CommandStep, FixPlan

log = logging.getLogger(__name__)

DEFAULT_STALE_AFTER_MINUTES = 30.0
PROCESS_KINDS = ("process.sst",)
FILE_LOCK_KINDS = ("lock.file",)


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `sst unlock --stage STAGE`; safe only when the lock is proven stale."""
    lock = finding.fact
    if lock is None:
        return None
    stage = _stage_of(finding)
    if stage is None:
        return None

    threshold = float(params.get("stale_after_minutes", DEFAULT_STALE_AFTER_MINUTES))
    reasons = reasons_not_stale(lock, stage, threshold, context)
    safety: Safety = "manual" if reasons else "safe"

    argv, cwd = unlock_argv(context.root, stage)
    age = lock.get("age_seconds")
    age_text = "of unknown age"
    if isinstance(age, int | float):
        age_text = f"{float(age) / 60:.0f} min old"
    description = f"release SST's state lock of stage {stage} ({age_text}) with sst unlock"
    steps = [f"Kept manual: {reason}." for reason in reasons]
    steps.append(
        f"Make sure no deploy of stage {stage} is running (CI included), then run the command."
    )
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="sst-unlock",
        safety=safety,
        description=description,
        commands=(CommandStep(tuple(argv), description, cwd=cwd),),
        steps=tuple(steps),
    )


def _stage_of(finding: Finding) -> str | None:
    """Return the stage of the lock fact, or of a joined fact for a finding from a log."""
    for fact in (finding.fact, *finding.match.joined):
        stage = fact.get("stage") if fact is not None else None
        if isinstance(stage, str) and stage:
            return stage
    return None


def reasons_not_stale(
    lock: Fact, stage: str, threshold_minutes: float, context: FixContext,
) -> list[str]:
    """Return why the lock is not proven stale; an empty list means it is."""
    reasons: list[str] = []
    if lock.kind != "sst.state_lock":
        reasons.append(
            f"a log does not show the lock's age; `deploy-kit doctor --stage {stage}` reads it"
        )
        return reasons
    age = lock.get("age_seconds")
    if not isinstance(age, int | float) or isinstance(age, bool):
        reasons.append("the lock records no creation time")
    elif age < threshold_minutes * 60:
        reasons.append(
            f"the lock is {age / 60:.0f} min old, under the {threshold_minutes:g} min threshold"
        )

    facts = local_facts(context, stage)
    if facts is None:
        reasons.append("running SST processes and file locks could not be checked")
        return reasons
    for error in facts.of_kind("collector.error"):
        reasons.append(f"could not check {error.get('description')}: {error.get('reason')}")
    for process in facts.of_kind("process.sst"):
        if process.get("stage") in (stage, None):
            pid, command = process.get("pid"), process.get("command")
            reasons.append(f"SST process {pid} ({command}) is running in this project")
    for file_lock in facts.of_kind("lock.file"):
        if file_lock.get("stage") == stage and file_lock.get("stale") is not True:
            path, deployer = file_lock.get("path"), file_lock.get("deployer")
            reasons.append(f"the file lock {path} is held by {deployer}")
    return reasons


def local_facts(context: FixContext, stage: str) -> FactIndex | None:
    """Collect running SST processes and file locks now, or None when nothing can.

    They are collected here rather than taken from the run's facts because the
    rules selected for the run may not have needed them.
    """
    from deploykit.collectors import collectors_for
    from deploykit.context import RunContext
    from deploykit.diagnosis import run_collectors

    wanted = set(PROCESS_KINDS) | set(FILE_LOCK_KINDS)
    specs = collectors_for(wanted)
    provided = {kind for spec in specs for kind in spec.provides}
    if not set(PROCESS_KINDS) <= provided or not set(FILE_LOCK_KINDS) <= provided:
        return None
    run_context = RunContext(root=context.root, stage=stage, env=dict(context.env), offline=True)
    facts, _ = run_collectors(run_context, specs)
    return facts


def unlock_argv(root: Path, stage: str) -> tuple[list[str], str]:
    """Return the argv of `sst unlock --stage STAGE` and the folder to run it in."""
    from deploykit.layout import find_layout
    from deploykit.packagemanager import detect_package_manager, exec_argv

    folder = find_layout(root).sst_dir
    argv = exec_argv(detect_package_manager(folder), "sst", ["unlock", "--stage", stage])
    binary = Path(argv[0])
    if binary.is_absolute() and binary.is_relative_to(folder):
        argv[0] = "./" + binary.relative_to(folder).as_posix()
    cwd = folder.relative_to(root.resolve()).as_posix() if folder != root.resolve() else "."
    return argv, cwd
