"""`deploy-kit doctor`: diagnose, optionally apply safe fixes, verify and report."""

from __future__ import annotations

import sys
from pathlib import Path

from deploykit.checks import run_checks
from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from deploykit.errors import UsageError
from deploykit.project import resolve_root
from deploykit.render import FORMATS, render_report


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
    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    rules = select_rules(load_rules(root), "doctor", select, ignore)
    result = run_checks(context, rules, fix=fix)
    render_report(result, output_format, sys.stdout)
    return result.exit_code
