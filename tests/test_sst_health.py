"""`.sst` health: an incomplete platform folder, stray copies and leftover local locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deploykit.checks import run_checks
from deploykit.collectors.sst_health import collect
from deploykit.diagnosis import Diagnosis, diagnose
from engine.facts import Fact
from engine.model import Finding
from tests.lock_helpers import context, install_fake_tool, make_project, rules_for, running


def corrupted_project(root: Path) -> Path:
    """A project whose .sst/platform has its types but lost its node_modules."""
    project = make_project(root)
    platform = project / ".sst" / "platform"
    platform.mkdir(parents=True)
    (platform / "config.d.ts").write_text("export {};\n")
    return project


def only(kind: str, facts: list[Fact]) -> Fact:
    (fact,) = [fact for fact in facts if fact.kind == kind]
    return fact


def finding_of(diagnosis: Diagnosis, rule_id: str) -> Finding:
    (finding,) = [f for f in diagnosis.findings if f.rule.id == rule_id]
    return finding


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sst_dir_reports_missing_platform_parts(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    fact = only("sst.dir", list(collect(context(project))))
    assert fact.get("config_dts") is True
    assert fact.get("complete") is False
    assert fact.get("missing") == [
        ".sst/platform/node_modules", ".sst/platform/node_modules/@pulumi/pulumi",
    ]


def test_sst_dir_complete_platform(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    (project / ".sst/platform/node_modules/@pulumi/pulumi").mkdir(parents=True)
    fact = only("sst.dir", list(collect(context(project))))
    assert fact.get("complete") is True


def test_sst_dir_absent_without_sst_config(tmp_path: Path) -> None:
    assert list(collect(context(tmp_path))) == []


def test_corrupted_sst_folder_plans_sst_install(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/platform-incomplete")
    assert ".sst/platform/node_modules" in finding.message
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    assert [step.argv for step in finding.plan.commands] == [(str(sst), "install")]


def test_corrupted_sst_folder_fix_is_verified(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    install_fake_tool(project, "sst")
    result = run_checks(context(project), rules_for("doctor", "sst-dir"), fix=True)
    (outcome,) = [o for o in result.fixes if o.finding.rule.id == "sst-dir/platform-incomplete"]
    assert outcome.applied
    assert outcome.verified is True
    assert (project / ".sst/platform/node_modules/@pulumi/pulumi").is_dir()


def test_corrupted_sst_folder_manual_while_sst_runs(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev", "--stage", "dana"], project) as pid:
        diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/platform-incomplete")
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert f"pid {pid}" in finding.plan.description


def test_corrupted_sst_folder_manual_without_local_sst(tmp_path: Path) -> None:
    project = corrupted_project(tmp_path / "shop")
    diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/platform-incomplete")
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert [step.argv[-1] for step in finding.plan.commands] == ["install", "install"]


def test_nested_sst_found_in_open_next(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    (project / ".open-next/server-functions/default/.sst/platform").mkdir(parents=True)
    (project / ".open-next/server-functions/default/node_modules/pkg/.sst").mkdir(parents=True)
    facts = [f for f in collect(context(project)) if f.kind == "sst.nested_dir"]
    assert [f.get("path") for f in facts] == [".open-next/server-functions/default/.sst"]
    assert facts[0].get("artifact") == ".open-next"


def test_nested_sst_rule_plans_moving_it_aside(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    (project / ".open-next/server-functions/default/.sst").mkdir(parents=True)
    diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/nested-sst-in-build-output")
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    assert finding.plan.commands[0].argv[-1] == ".open-next/server-functions/default/.sst"


def write_pulumi_lock(project: Path, pid: int) -> Path:
    lock = project / ".sst/.pulumi/locks/organization/shop/staging/1b2c.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": pid, "username": "dana", "hostname": os.uname().nodename}))
    return lock


def test_pulumi_lock_with_dead_holder_is_removed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    lock = write_pulumi_lock(project, dead_pid())
    diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/leftover-local-lock")
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    (edit,) = finding.plan.edits
    assert edit.path == ".sst/.pulumi/locks/organization/shop/staging/1b2c.json"
    assert edit.before == lock.read_bytes()
    assert edit.after is None


def test_pulumi_lock_kept_while_sst_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    write_pulumi_lock(project, dead_pid())
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev"], project):
        diagnosis = diagnose(context(project), rules_for("doctor", "sst-dir"))
    assert [f for f in diagnosis.findings if f.rule.id == "sst-dir/leftover-local-lock"] == []


def test_sst_dev_already_running_in_dev_scope(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev", "--stage", "dana"], project) as pid:
        diagnosis = diagnose(context(project, "dev"), rules_for("dev", "sst-dir"))
    finding = finding_of(diagnosis, "sst-dir/sst-dev-already-running")
    assert f"pid {pid}" in finding.message
