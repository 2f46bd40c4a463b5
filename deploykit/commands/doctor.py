"""`deploy-kit doctor`: diagnose, optionally apply safe fixes, verify and report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deploykit.checks import run_checks
from deploykit.context import RunContext
from deploykit.diagnosis import id_matches, load_rules, select_rules
from deploykit.errors import UsageError
from deploykit.project import resolve_root
from deploykit.render import FORMATS, render_report
from deploykit.stages import check_stage_option

if TYPE_CHECKING:
    from engine.model import Rule


def run_doctor(
    path: Path,
    *,
    fix: bool,
    stage: str | None,
    profile: str | None,
    offline: bool,
    select: list[str],
    ignore: list[str],
    output_format: str,
    verbose: bool,
) -> int:
    """Run the `doctor` scope on the project at `path`; return 0, or 1 when errors remain."""
    if output_format not in FORMATS:
        raise UsageError(
            f"unknown report format {output_format!r}; use one of {', '.join(FORMATS)}"
        )
    root = resolve_root(path)
    check_stage_option(root, stage)
    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    all_rules = load_rules(root)
    check_selectors(all_rules, select, ignore)
    rules = select_rules(all_rules, "doctor", select, ignore)
    result = run_checks(context, rules, fix=fix)
    render_report(result, output_format, sys.stdout)
    return result.exit_code


def check_selectors(rules: Sequence[Rule], select: list[str], ignore: list[str]) -> None:
    """Raise UsageError for a --select or --ignore value that matches no loaded rule.

    A mistyped --select would otherwise run no rule and exit 0, and a mistyped
    --ignore would leave the rule it meant to skip running.
    """
    for option, selectors in (("--select", select), ("--ignore", ignore)):
        for selector in selectors:
            if not any(id_matches(rule.id, selector) for rule in rules):
                raise UsageError(
                    f"unknown rule id or prefix {selector!r} in {option}; "
                    "`deploy-kit rules list` lists the rule ids"
                )
    if select and not select_rules(rules, "doctor", select):
        raise UsageError(
            f"--select {' '.join(select)} matches no rule that `doctor` runs; "
            "`deploy-kit rules list` shows each rule's scopes"
        )
