"""AWS variables in .env files and the environment: names and emptiness, never secrets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deploykit.collectors.envfiles import collect, env_files, parse_value, process_var_facts
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.layout import find_layout
from engine.facts import Fact
from engine.model import Finding
from tests.conftest import FIXTURES

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / "projects" / name, target, symlinks=True)
    find_layout.cache_clear()
    return target


def collected(root: Path, env: dict[str, str] | None = None) -> list[Fact]:
    find_layout.cache_clear()
    return list(collect(RunContext(root=root, offline=True, env=env or {})))


def test_broken_env_file_vars(tmp_path: Path) -> None:
    facts = collected(copy("broken", tmp_path))
    by_name = {fact.get("name"): fact for fact in facts if fact.kind == "env.file_var"}
    assert sorted(by_name) == ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SECRET_ACCESS_KEY"]
    assert by_name["AWS_ACCESS_KEY_ID"].get("empty") is True
    assert by_name["AWS_ACCESS_KEY_ID"].source.describe() == ".env:3"
    assert by_name["AWS_PROFILE"].get("value") == "default"


def test_secret_values_never_in_facts(tmp_path: Path) -> None:
    (tmp_path / ".env.local").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\nAWS_REGION=eu-west-1\n")
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": SECRET, "AWS_PROFILE": "shop-dev"}
    facts = collected(tmp_path, env)
    dumped = json.dumps([fact.to_dict() for fact in facts])
    assert SECRET not in dumped
    assert len([fact for fact in facts if fact.get("name") == "AWS_SECRET_ACCESS_KEY"]) == 2
    assert "eu-west-1" in dumped
    assert "shop-dev" in dumped


def test_non_aws_variables_ignored(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEXT_PUBLIC_API=x\nDATABASE_URL=postgres://u:p@h/db\n")
    assert collected(tmp_path, {"HOME": "/root"}) == []


def test_template_files_skipped(tmp_path: Path) -> None:
    for name in (
        ".env",
        ".env.production",
        ".env.example",
        ".env.sample",
        ".env.local.template",
        ".envrc",
    ):
        (tmp_path / name).write_text("AWS_ACCESS_KEY_ID=\n")
    assert [path.name for path in env_files(tmp_path)] == [".env", ".env.production"]


def test_env_files_in_next_app_folder(tmp_path: Path) -> None:
    project = copy("monorepo", tmp_path)
    (project / "apps/web/.env.local").write_text("export AWS_SESSION_TOKEN=''\n")
    facts = collected(project)
    (fact,) = [fact for fact in facts if fact.kind == "env.file_var"]
    assert fact.get("file") == "apps/web/.env.local"
    assert fact.get("empty") is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("  ", ""),
        ('""', ""),
        ("''", ""),
        ("value", "value"),
        ('"quoted # not a comment"', "quoted # not a comment"),
        ("value # comment", "value"),
        ("# only a comment", "# only a comment"),
    ],
)
def test_parse_value(raw: str, expected: str) -> None:
    assert parse_value(raw) == expected


def test_process_vars_empty_and_plain() -> None:
    facts = list(
        process_var_facts({"AWS_ACCESS_KEY_ID": "", "AWS_REGION": "us-east-1", "PATH": "/bin"})
    )
    by_name = {fact.get("name"): fact for fact in facts}
    assert sorted(by_name) == ["AWS_ACCESS_KEY_ID", "AWS_REGION"]
    assert by_name["AWS_ACCESS_KEY_ID"].get("empty") is True
    assert by_name["AWS_REGION"].get("value") == "us-east-1"
    assert "value" not in by_name["AWS_ACCESS_KEY_ID"].data


def rule_findings(project: Path, rule_id: str, env: dict[str, str]) -> list[Finding]:
    find_layout.cache_clear()
    rules = select_rules(load_rules(), "doctor", [rule_id])
    return diagnose(RunContext(root=project, offline=True, env=env), rules).findings


def test_static_credentials_case_finds_empty_keys(tmp_path: Path) -> None:
    project = copy("broken", tmp_path)
    findings = rule_findings(project, "env/empty-aws-credentials-in-env-file", {})
    assert [finding.evidence[0].describe() for finding in findings] == [".env:3", ".env:4"]
    assert "AWS_ACCESS_KEY_ID to an empty value" in findings[0].message
    assert findings[0].plan is not None
    assert findings[0].plan.safety == "manual"


def test_static_keys_in_env_file_warn(tmp_path: Path) -> None:
    (tmp_path / ".env.local").write_text(
        f"AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY={SECRET}\n"
    )
    findings = rule_findings(tmp_path, "env/aws-credentials-in-env-file", {})
    assert len(findings) == 2
    assert all(SECRET not in finding.message for finding in findings)


def test_aws_profile_differs_from_sst_config(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    findings = rule_findings(
        project, "env/aws-profile-differs-from-sst-config", {"AWS_PROFILE": "default"}
    )
    assert len(findings) == 1
    assert "AWS_PROFILE=default" in findings[0].message
    assert "sst.config.ts:9" in findings[0].message


def test_aws_profile_matching_a_stage_is_quiet(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    assert (
        rule_findings(
            project, "env/aws-profile-differs-from-sst-config", {"AWS_PROFILE": "notes-prod"}
        )
        == []
    )


def test_aws_profile_in_env_file_differs(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    (project / ".env").write_text("AWS_PROFILE=default\n")
    findings = rule_findings(project, "env/aws-profile-in-env-file-differs", {})
    assert len(findings) == 1
    assert findings[0].message.startswith(".env:1 sets AWS_PROFILE=default")
