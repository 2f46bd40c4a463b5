"""`deploy-kit doctor`: diagnose, optionally apply safe fixes, verify and report."""

from __future__ import annotations

from pathlib import Path

from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.project import resolve_root


def run_doctor(
    path: Path, *, fix: bool, stage: str | None, profile: str | None, offline: bool,
    select: list[str], ignore: list[str], output_format: str, verbose: bool,
) -> int:
    root = resolve_root(path)
    context = RunContext(root=root, scope="doctor", stage=stage, profile=profile, offline=offline)
    rules = select_rules(load_rules(root), "doctor", select, ignore)
    result = diagnose(context, rules)
    # TODO: replace with the rich renderer, the fix loop and json/sarif output.
    for finding in result.findings:
        where = ", ".join(s.describe() for s in finding.evidence)
        print(f"{finding.severity:7} {finding.rule.id}: {finding.message} [{where}]")
        if finding.plan:
            print(f"        fix ({finding.plan.safety}): {finding.plan.description}")
    errors = sum(1 for f in result.findings if f.severity == "error")
    return 1 if errors else 0
