"""Run the checks of one command: diagnose, apply safe fixes, collect again, verify.

Every command that diagnoses (doctor, dev, deploy, triage) calls `run_checks`
and hands the `CheckResult` to `deploykit.render.render_report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from deploykit.context import RunContext
from deploykit.diagnosis import Diagnosis, diagnose
from engine.facts import Fact, FactIndex
from engine.fixing import FixerRegistry
from engine.fixloop import AppliedPlan, EnvStore, Journal, apply_plans
from engine.model import Finding, Rule

# Rule id, message and evidence files: see `verification_key`.
FindingKey = tuple[str, str, tuple[str, ...]]
# Facts that record a past run (a log, a failed deploy). Collecting again
# cannot make them go away, so a fix for a finding based on them, like a fix
# that only stores settings for the next SST run, is checked by that next run.
RECORDED_KINDS = frozenset({"log.line", "deploy.failure"})
# Each round applies at least one plan per file, so rounds end once no two
# safe fixes share a file; the bound stops a fixer whose plan never settles.
MAX_FIX_ROUNDS = 5


@dataclass(frozen=True)
class FixOutcome:
    """One safe fix that `--fix` tried: applied or not, and whether its finding is gone."""

    finding: Finding
    applied: bool
    verified: bool | None
    error: str | None = None


@dataclass
class CheckResult:
    """Findings of one run after any fixes, with the fixes tried and the collected facts.

    `findings` contains each finding once. A fixed one has `fixed=True`, and
    `verified` tells whether collecting again found it gone (None when only
    the next SST run can tell). The others are still open. Findings that
    appeared only after the fixes are included too.
    """

    context: RunContext
    rules: list[Rule]
    findings: list[Finding]
    facts: FactIndex
    fixes: list[FixOutcome] = field(default_factory=list)
    journal: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    fix_requested: bool = False

    @property
    def open_findings(self) -> list[Finding]:
        """Findings still present: not fixed, or fixed but still found afterwards."""
        return [f for f in self.findings if not f.fixed or f.verified is False]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.open_findings if f.severity == severity)

    @property
    def fixed_verified(self) -> int:
        return sum(1 for f in self.findings if f.fixed and f.verified)

    @property
    def fixed_unverified(self) -> int:
        return sum(1 for f in self.findings if f.fixed and f.verified is False)

    @property
    def fixed_next_run(self) -> int:
        """Fixes applied that only the next SST run can check."""
        return sum(1 for f in self.findings if f.fixed and f.verified is None)

    @property
    def manual_waiting(self) -> int:
        return sum(
            1 for f in self.open_findings if f.plan is not None and f.plan.safety == "manual"
        )

    @property
    def safe_available(self) -> int:
        """Open findings whose safe fix `--fix` would apply."""
        return sum(
            1
            for f in self.open_findings
            if not f.fixed and f.plan is not None and f.plan.safety == "safe" and f.plan.applicable
        )

    @property
    def exit_code(self) -> int:
        """0 when no error-severity finding is left, 1 otherwise."""
        return 1 if self.count("error") else 0


def run_checks(
    context: RunContext,
    rules: Sequence[Rule],
    *,
    fix: bool,
    extra_facts: Iterable[Fact] = (),
    registry: FixerRegistry | None = None,
) -> CheckResult:
    """Diagnose with `rules`; with `fix`, apply safe plans, collect again and verify them."""
    extra = list(extra_facts)
    first = diagnose(context, rules, registry, extra)
    if not fix:
        return _result(context, first, first.findings, fix_requested=False)

    journal = Journal(context.root.resolve())
    outcomes: dict[FindingKey, tuple[Finding, AppliedPlan]] = {}
    current = first
    for _ in range(MAX_FIX_ROUNDS):
        pending = [
            f for f in current.findings if _has_safe_plan(f) and verification_key(f) not in outcomes
        ]
        if not pending:
            break
        run = apply_plans(
            context.root,
            [f.plan for f in pending if f.plan is not None],
            env_store=env_store_for(context),
            journal=journal,
        )
        deferred = False
        for finding, outcome in zip(pending, run.results, strict=True):
            if outcome.deferred:
                deferred = True
                continue
            outcomes[verification_key(finding)] = (finding, outcome)
        if not deferred:
            break
        # Plans made before another fix changed their file are stale: plan again.
        current = diagnose(context, rules, registry, extra)

    if not outcomes:
        return _result(context, first, first.findings, fix_requested=True)

    second = diagnose(context, rules, registry, extra)
    remaining = {verification_key(f) for f in second.findings}
    findings, fixes = _merge(first.findings, second.findings, outcomes, remaining)
    result = _result(context, second, findings, fix_requested=True)
    result.fixes = fixes
    result.journal = journal.path
    result.timings = {**{f"first.{k}": v for k, v in first.timings.items()}, **second.timings}
    return result


def _has_safe_plan(finding: Finding) -> bool:
    plan = finding.plan
    return plan is not None and plan.safety == "safe" and plan.applicable


def verification_key(finding: Finding) -> FindingKey:
    """Identity of a finding across two collections.

    Line numbers are left out because a fix that edits a file moves the lines
    of findings that remain; the rule id, the message (which names the value)
    and the evidence files are what must disappear.
    """
    files = tuple(source.file or source.command or source.api or "" for source in finding.evidence)
    return (finding.rule.id, finding.message, files)


def _merge(
    before: list[Finding],
    after: list[Finding],
    outcomes: Mapping[FindingKey, tuple[Finding, AppliedPlan]],
    remaining: set[FindingKey],
) -> tuple[list[Finding], list[FixOutcome]]:
    findings: list[Finding] = []
    fixes: list[FixOutcome] = []
    shown: set[FindingKey] = set()
    for key, (finding, outcome) in outcomes.items():
        if not outcome.applied:
            fixes.append(FixOutcome(finding, False, None, outcome.error))
            continue
        verified: bool | None = key not in remaining
        if not verified and checked_next_run(finding):
            verified = None
        fixed = replace(finding, fixed=True, verified=verified)
        fixes.append(FixOutcome(fixed, True, verified))
        findings.append(fixed)
        shown.add(key)
    for finding in after:
        if verification_key(finding) in shown:
            continue
        findings.append(finding)
    return _by_rule_order(findings, before + after), fixes


def checked_next_run(finding: Finding) -> bool:
    """Return whether collecting again cannot show this finding's fix working.

    That holds when the finding rests on a recorded fact (a log line, a failed
    deploy), or when its plan only stores settings for the next SST run.
    """
    facts = [finding.match.primary, *finding.match.joined]
    if any(fact is not None and fact.kind in RECORDED_KINDS for fact in facts):
        return True
    plan = finding.plan
    return plan is not None and bool(plan.env) and not plan.edits and not plan.commands


def _by_rule_order(findings: list[Finding], reference: list[Finding]) -> list[Finding]:
    order: dict[str, int] = {}
    for finding in reference:
        order.setdefault(finding.rule.id, len(order))
    return sorted(findings, key=lambda f: order.get(f.rule.id, len(order)))


def _result(
    context: RunContext, diagnosis: Diagnosis, findings: list[Finding], *, fix_requested: bool
) -> CheckResult:
    return CheckResult(
        context=context,
        rules=diagnosis.rules,
        findings=list(findings),
        facts=diagnosis.facts,
        timings=dict(diagnosis.timings),
        fix_requested=fix_requested,
    )


def env_store_for(context: RunContext) -> EnvStore:
    """Return where `env` plans of this run are stored: `.deploy-kit/run-env.json`."""
    from deploykit.runsettings import RUN_ENV_FILE, save_run_env

    def write(settings: Mapping[str, str]) -> None:
        save_run_env(context.root, context.stage, dict(settings))

    return EnvStore(path=RUN_ENV_FILE.as_posix(), write=write)
