"""`deploy-kit fix RULE_ID` applies one finding's fix after confirmation; `--undo` reverts.

A manual fix changes behaviour, shared cloud state or credentials, so it is
applied only after the user confirms it in an interactive terminal, and never
when `CI` is set or when standard input or output is not a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from deploykit.checks import checked_next_run, env_store_for, run_checks, verification_key
from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from deploykit.errors import InputError, UsageError
from deploykit.project import resolve_root
from deploykit.render import render_finding
from deploykit.stages import check_stage_option
from engine.fixloop import UndoError, apply_plans, undo_last
from engine.model import Finding, Rule


def run_fix(
    path: Path,
    *,
    rule_id: str | None,
    undo: bool,
    stage: str | None,
    profile: str | None,
    offline: bool,
) -> int:
    """Undo the last applied fixes, or apply the fix of `rule_id`'s findings after confirmation."""
    root = resolve_root(path)
    check_stage_option(root, stage)
    if undo:
        if rule_id is not None:
            raise UsageError(
                "`fix --undo` takes no rule id; it restores the files of the last fix run"
            )
        return _undo(root, sys.stdout)
    if rule_id is None:
        raise UsageError(
            "name the rule whose fix to apply, such as `deploy-kit fix git/dirty-tree`"
        )

    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    all_rules = load_rules(root)
    if rule_id not in {rule.id for rule in all_rules}:
        raise UsageError(f"unknown rule {rule_id!r}; `deploy-kit rules list` shows the rule ids")
    rules = [rule for rule in select_rules(all_rules, None) if rule.id == rule_id]
    _require_terminal(context)

    result = run_checks(context, rules, fix=False)
    findings = [f for f in result.findings if f.plan is not None and f.plan.applicable]
    if not result.findings:
        sys.stdout.write(f"{rule_id}: no finding in this project, nothing to fix\n")
        return 0
    if not findings:
        for finding in result.findings:
            render_finding(finding, sys.stdout)
        sys.stdout.write(
            f"{rule_id} has no fix that deploy-kit can apply; follow the steps above by hand\n"
        )
        return 1

    applied = _confirm_and_apply(context, findings, sys.stdin, sys.stdout)
    if not applied:
        sys.stdout.write("no fix applied\n")
        return 1
    return _verify(context, rules, applied, sys.stdout)


def _require_terminal(context: RunContext) -> None:
    if context.ci:
        raise UsageError(
            "`deploy-kit fix` does not run when CI is set, because a fix must be confirmed "
            "by a person; follow the manual steps that `deploy-kit doctor` shows"
        )
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "`deploy-kit fix` needs an interactive terminal to confirm the fix; "
            "run it in a terminal without redirecting its input or output"
        )


def _confirm_and_apply(
    context: RunContext, findings: list[Finding], stdin: IO[str], stdout: IO[str]
) -> list[Finding]:
    applied: list[Finding] = []
    for finding in findings:
        if finding.plan is None:
            continue
        render_finding(finding, stdout)
        stdout.write(f"Apply this {finding.plan.safety} fix? [y/N] ")
        stdout.flush()
        answer = stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            stdout.write("skipped\n")
            continue
        run = apply_plans(
            context.root, [finding.plan], env_store=env_store_for(context), confirmed_manual=True
        )
        outcome = run.results[0]
        if not outcome.applied:
            stdout.write(f"fix not applied: {outcome.error}\n")
            continue
        for output in outcome.command_output:
            if output:
                stdout.write(output + "\n")
        applied.append(finding)
    return applied


def _verify(
    context: RunContext, rules: Sequence[Rule], applied: list[Finding], stdout: IO[str]
) -> int:
    after = run_checks(context, rules, fix=False)
    remaining = {verification_key(f) for f in after.findings}
    still = [f for f in applied if verification_key(f) in remaining]
    failed = False
    for finding in applied:
        if finding not in still:
            state = "fixed and verified"
        elif checked_next_run(finding):
            state = "fixed, checked on the next SST run"
        else:
            state = "still found"
            failed = True
        stdout.write(f"{finding.rule.id}: {state}\n")
    stdout.write("Undo with: deploy-kit fix --undo\n")
    return 1 if failed else 0


def _undo(root: Path, stdout: IO[str]) -> int:
    try:
        result = undo_last(root)
    except UndoError as error:
        raise InputError(str(error)) from None
    for relative in result.restored:
        stdout.write(f"restored {relative}\n")
    for relative in result.removed:
        stdout.write(f"removed {relative} (created by the fix)\n")
    stdout.write(f"undid the fixes recorded in {result.journal.name}\n")
    return 0
