"""The aws-login and sst-unlock fixers on findings built from real rules."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploykit.diagnosis import load_rules
from engine.facts import Fact, FactIndex
from engine.fixing import FixContext, plan_fix
from engine.model import Finding, Match, Rule
from fixers import registry

REPO = Path(__file__).resolve().parent.parent


def rule(rule_id: str) -> Rule:
    return next(r for r in load_rules() if r.id == rule_id)


def planned(rule_id: str, fact: Fact, root: Path, facts: list[Fact] | None = None) -> Finding:
    finding = Finding(rule(rule_id), "message", (), Match(fact))
    context = FixContext(root=root, facts=FactIndex(facts or [fact]), stage=fact.get("stage"))
    return plan_fix(finding, context, registry())


def lock_fact(stage: str | None, age_seconds: float | None) -> Fact:
    return Fact(
        "sst.state_lock",
        {
            "app": "notes",
            "stage": stage,
            "bucket": "sst-state-abc",
            "key": f"lock/notes/{stage}.json",
            "created": "2024-05-01T10:00:00Z",
            "age_seconds": age_seconds,
            "command": "deploy",
        },
    )


def test_sst_unlock_without_stage_plans_nothing(tmp_path: Path) -> None:
    finding = planned("sst-state/state-lock-held", lock_fact(None, 7200), tmp_path)
    assert finding.plan is None


def test_sst_unlock_command_always_has_stage(tmp_path: Path) -> None:
    finding = planned("sst-state/state-lock-held", lock_fact("production", 60), tmp_path)
    assert finding.plan is not None
    argv = finding.plan.commands[0].argv
    assert argv[-3:] == ("unlock", "--stage", "production")
    assert finding.plan.edits == ()


def test_sst_unlock_young_lock_is_manual(tmp_path: Path) -> None:
    finding = planned("sst-state/state-lock-held", lock_fact("production", 60), tmp_path)
    assert finding.plan is not None
    assert finding.plan.safety == "manual"


def test_sst_unlock_lock_without_time_is_manual(tmp_path: Path) -> None:
    finding = planned("sst-state/state-lock-held", lock_fact("production", None), tmp_path)
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert any("no creation time" in step for step in finding.plan.steps)


def test_sst_unlock_uses_local_sst_binary(tmp_path: Path) -> None:
    binary = tmp_path / "node_modules" / ".bin" / "sst"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (tmp_path / "sst.config.ts").write_text("export default $config({});\n")
    (tmp_path / "package.json").write_text("{}\n")
    finding = planned("sst-state/state-lock-held", lock_fact("staging", 60), tmp_path)
    assert finding.plan is not None
    assert finding.plan.commands[0].argv == (
        "./node_modules/.bin/sst",
        "unlock",
        "--stage",
        "staging",
    )


def test_aws_login_static_profile_configures(tmp_path: Path) -> None:
    profile = Fact(
        "aws.profile",
        {
            "name": "shop-dev",
            "source": "sst.config.ts",
            "sso": False,
            "exists_in_config": False,
            "explicit": True,
        },
    )
    finding = planned("aws/profile-not-found", profile, tmp_path)
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert finding.plan.commands[0].argv == ("aws", "configure", "--profile", "shop-dev")


def test_aws_login_sso_profile_logs_in(tmp_path: Path) -> None:
    credentials = Fact(
        "aws.credentials",
        {"present": False, "source": "none", "profile": "shop-dev", "empty_env_vars": []},
    )
    profile = Fact(
        "aws.profile",
        {
            "name": "shop-dev",
            "source": "sst.config.ts",
            "sso": True,
            "exists_in_config": True,
            "explicit": True,
        },
    )
    finding = planned("aws/no-credentials", credentials, tmp_path, [credentials, profile])
    assert finding.plan is not None
    assert finding.plan.commands[0].argv == ("aws", "sso", "login", "--profile", "shop-dev")


def test_aws_login_default_profile_configures(tmp_path: Path) -> None:
    credentials = Fact(
        "aws.credentials",
        {"present": False, "source": "none", "profile": "default", "empty_env_vars": []},
    )
    finding = planned("aws/no-credentials", credentials, tmp_path)
    assert finding.plan is not None
    assert finding.plan.commands[0].argv == ("aws", "configure")


def test_sst_unlock_from_log_uses_project_binary(tmp_path: Path) -> None:
    """A lock seen only in a log gets `sst unlock --stage` through the package manager, manual."""
    from deploykit.context import RunContext
    from deploykit.triage import triage_log

    project = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "projects" / "healthy", project)
    case = REPO / "fixtures" / "cases" / "stage-lock-left-after-an-interrupted-ci-deploy"
    context = RunContext(root=project, scope="triage", offline=True)
    result = triage_log(context, case / "deploy.log", failure=None, fix=False)

    (finding,) = [f for f in result.findings if f.rule.id == "log-sst-state/stage-locked"]
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    (command,) = finding.plan.commands
    assert command.argv == ("pnpm", "exec", "sst", "unlock", "--stage", "production")
