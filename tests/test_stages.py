"""Stage names: validation, suggestions, the deploy command's early rejection, and the
rule for stages that sst.config.ts tests but .deploy-config.json never deploys."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.errors import UsageError
from deploykit.stages import closest_stage, validate_stage_name
from tests.conftest import FIXTURES, REPO

Cli = Callable[..., CompletedProcess[str]]
CASE = FIXTURES / "cases" / "suspicious-stage-name"
FAKE_SST = REPO / "tests" / "fakesst" / "sst"


@pytest.mark.parametrize("name", ["staging", "prod", "pr-123", "dev2", "0"])
def test_validate_stage_name_accepts(name: str) -> None:
    validate_stage_name(name, [])


@pytest.mark.parametrize(
    "name",
    [
        "Prod Stage",
        "production;rm",
        "--help-me",
        "-x",
        "Prod",
        "prod_1",
        "",
        "stage/1",
        "é",
        "prod\n",
    ],
)
def test_validate_stage_name_rejects(name: str) -> None:
    with pytest.raises(UsageError, match="invalid stage name"):
        validate_stage_name(name, ["staging", "prod"])


def test_validate_stage_name_suggests_closest() -> None:
    with pytest.raises(UsageError, match="did you mean 'prod'"):
        validate_stage_name("Prod Stage", ["staging", "prod"])


def test_validate_stage_name_rejects_unconfigured() -> None:
    with pytest.raises(
        UsageError,
        match=r"not in the stages of \.deploy-config\.json \(staging, prod\); use 'prod'",
    ):
        validate_stage_name("prd", ["staging", "prod"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [("production;rm", "prod"), ("Staging", "staging"), ("stagin", "staging"), ("qa", None)],
)
def test_closest_stage(name: str, expected: str | None) -> None:
    assert closest_stage(name, ["staging", "prod"]) == expected


def deploy_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose local sst binary records every start, so a test can see it never ran."""
    project = tmp_path / "shop"
    shutil.copytree(FIXTURES / "projects" / "healthy", project, symlinks=True)
    binary = project / "node_modules" / ".bin"
    binary.mkdir(parents=True, exist_ok=True)
    shutil.copy(FAKE_SST, binary / "sst")
    os.chmod(binary / "sst", 0o755)
    return project, tmp_path / "sst-runs.jsonl"


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("Prod Stage", "invalid stage name 'Prod Stage'"),
        ("production;rm", "invalid stage name 'production;rm'"),
        ("prd", "not in the stages of .deploy-config.json"),
    ],
)
def test_deploy_rejects_stage_before_running(
    tmp_path: Path, cli: Cli, argument: str, expected: str
) -> None:
    project, record = deploy_project(tmp_path)
    result = cli("deploy", argument, "-C", str(project), env={"FAKE_SST_RECORD": str(record)})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not record.exists()


def test_deploy_rejects_unknown_option(tmp_path: Path, cli: Cli) -> None:
    project, record = deploy_project(tmp_path)
    result = cli("deploy", "--help-me", "-C", str(project), env={"FAKE_SST_RECORD": str(record)})
    assert result.returncode == 2
    assert "--help-me" in result.stderr
    assert not record.exists()


def test_case_readme_lists_rejected_invocations() -> None:
    text = (CASE / "README.md").read_text()
    for invocation in (
        "deploy-kit deploy --help-me",
        'deploy-kit deploy "Prod Stage"',
        "deploy-kit deploy production;rm",
    ):
        assert invocation in text


def branch_findings(project: Path) -> list[str]:
    rules = select_rules(load_rules(), "doctor", ["stages/branch-never-applies"])
    context = RunContext(root=project, scope="doctor", offline=True)
    return [finding.message for finding in diagnose(context, rules).findings]


def test_branch_never_applies_for_prod_config(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    shutil.copytree(FIXTURES / "projects" / "broken", project, symlinks=True)
    messages = branch_findings(project)
    assert messages
    assert all("stage `production`" in message for message in messages)
    assert "staging, prod" in messages[0]


def test_branch_never_applies_quiet_when_stage_configured(tmp_path: Path) -> None:
    project = tmp_path / "healthy"
    shutil.copytree(FIXTURES / "projects" / "healthy", project, symlinks=True)
    assert branch_findings(project) == []


def test_branch_never_applies_quiet_without_config(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    shutil.copytree(FIXTURES / "projects" / "broken", project, symlinks=True)
    (project / ".deploy-config.json").unlink()
    assert branch_findings(project) == []


def test_branch_rule_after_renaming_stage(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    shutil.copytree(FIXTURES / "projects" / "broken", project, symlinks=True)
    config_path = project / ".deploy-config.json"
    config = json.loads(config_path.read_text())
    config["stages"] = ["staging", "production"]
    config["stageConfig"] = {"production": config["stageConfig"].pop("prod")}
    config_path.write_text(json.dumps(config))
    assert branch_findings(project) == []
