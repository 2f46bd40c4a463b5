""".deploy-config.json: loading, validation, the validate command and the collector facts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from deploykit.collectors.deploy_config import config_facts
from deploykit.config import (
    DEFAULT_TIMEOUT_MS,
    ConfigProblem,
    load_deploy_config,
    validate_deploy_config,
)
from deploykit.errors import InputError
from engine.facts import Fact
from tests.conftest import FIXTURES

Cli = Callable[..., CompletedProcess[str]]


def write_config(folder: Path, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, indent=2) + "\n"
    (folder / ".deploy-config.json").write_text(text)
    return folder


def problem_paths(data: Any) -> dict[str, str]:
    return {problem.path: problem.message for problem in validate_deploy_config(data)}


@pytest.mark.parametrize("project", ["healthy", "broken"])
def test_fixture_configs_are_valid(project: str) -> None:
    config = load_deploy_config(FIXTURES / "projects" / project)
    assert config is not None
    assert validate_deploy_config(config.raw) == []


def test_load_returns_none_without_file(tmp_path: Path) -> None:
    assert load_deploy_config(tmp_path) is None


def test_load_reads_typescript_format() -> None:
    config = load_deploy_config(FIXTURES / "projects" / "broken")
    assert config is not None
    assert config.project_name == "shop"
    assert config.aws_profile == "shop-dev"
    assert config.stages == ["staging", "prod"]
    assert config.require_clean_git is True
    assert config.main_domain == "shop.example.com"
    assert config.hooks == {"preDeploy": "npm test"}
    prod = config.stage_config("prod")
    assert prod.domain == "shop.example.com"
    assert prod.requires_confirmation is True
    assert prod.aws_profile == "shop-dev"
    checks = config.health_checks
    assert [check.url for check in checks] == ["/api/health", "/"]
    assert checks[0].search_text == "OK"
    assert checks[1].timeout_ms == DEFAULT_TIMEOUT_MS


def test_load_defaults_for_optional_settings(tmp_path: Path) -> None:
    config = load_deploy_config(write_config(tmp_path, {"projectName": "x", "stages": ["dev"]}))
    assert config is not None
    assert config.require_clean_git is True
    assert config.lock == {"backend": "file"}
    assert config.rule_paths == []
    assert config.pre_deployment_checks is None
    assert config.custom_deploy_script is None
    assert config.stage_config("dev").branch is None


def test_load_reads_lock_rule_paths_and_stage_settings(tmp_path: Path) -> None:
    data = {
        "projectName": "x",
        "stages": ["prod"],
        "awsProfile": "x-dev",
        "requireCleanGit": False,
        "lock": {"backend": "dynamodb", "table": "deploy-locks"},
        "rulePaths": ["tools/rules"],
        "preDeploymentChecks": ["npm run typecheck"],
        "customDeployScript": "./deploy.sh",
        "stageConfig": {
            "prod": {"awsProfile": "x-prod", "branch": "main", "skipCacheInvalidation": True}
        },
    }
    config = load_deploy_config(write_config(tmp_path, data))
    assert config is not None
    assert config.require_clean_git is False
    assert config.lock == {"backend": "dynamodb", "table": "deploy-locks"}
    assert config.rule_paths == ["tools/rules"]
    assert config.pre_deployment_checks == ["npm run typecheck"]
    assert config.custom_deploy_script == "./deploy.sh"
    prod = config.stage_config("prod")
    assert prod.aws_profile == "x-prod"
    assert prod.branch == "main"
    assert prod.skip_cache_invalidation is True


def test_load_rejects_malformed_json_with_position(tmp_path: Path) -> None:
    write_config(tmp_path, '{\n  "projectName": "x",\n  "stages": ["a",],\n}\n')
    with pytest.raises(InputError, match=r"\.deploy-config\.json:3:18: invalid JSON"):
        load_deploy_config(tmp_path)


def test_load_rejects_non_object(tmp_path: Path) -> None:
    write_config(tmp_path, '["staging"]\n')
    with pytest.raises(InputError, match="must contain a JSON object, not an array"):
        load_deploy_config(tmp_path)


def test_accessors_tolerate_wrong_types(tmp_path: Path) -> None:
    data = {"stages": "prod", "healthChecks": [{"url": "/x", "expectedStatus": "200"}], "hooks": []}
    config = load_deploy_config(write_config(tmp_path, data))
    assert config is not None
    assert config.stages == []
    assert config.health_checks[0].expected_status == 200
    assert config.hooks == {}


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"stages": ["dev"]}, "projectName", "missing"),
        ({"projectName": "x"}, "stages", "missing"),
        ({"projectName": "x", "stages": []}, "stages", "non-empty list"),
        ({"projectName": "x", "stages": ["Prod Stage"]}, "stages[0]", "invalid stage name"),
        ({"projectName": "x", "stages": ["dev", "dev"]}, "stages[1]", "listed twice"),
        (
            {"projectName": "x", "stages": ["dev"], "requireCleanGit": "yes"},
            "requireCleanGit",
            "true or false",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "mainDomain": "https://x.com"},
            "mainDomain",
            "domain name",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "stageConfig": {"qa": {}}},
            "stageConfig.qa",
            "not in `stages`",
        ),
        (
            {
                "projectName": "x",
                "stages": ["dev"],
                "stageConfig": {"dev": {"requiresConfirmation": 1}},
            },
            "stageConfig.dev.requiresConfirmation",
            "true or false",
        ),
        (
            {
                "projectName": "x",
                "stages": ["dev"],
                "healthChecks": [{"url": "/", "expectedStatus": 700}],
            },
            "healthChecks[0].expectedStatus",
            "must be an integer from 100 to 599",
        ),
        (
            {
                "projectName": "x",
                "stages": ["dev"],
                "healthChecks": [{"url": "/", "expectedStatus": True}],
            },
            "healthChecks[0].expectedStatus",
            "must be an integer from 100 to 599",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "healthChecks": [{"url": "/", "timeout": 0}]},
            "healthChecks[0].timeout",
            "positive integer",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "healthChecks": [{"expectedStatus": 200}]},
            "healthChecks[0].url",
            "missing",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "healthChecks": [{"url": "api/health"}]},
            "healthChecks[0].url",
            "starting with /",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "hooks": {"preDeplo": "npm test"}},
            "hooks.preDeplo",
            "unknown hook",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "hooks": {"onError": ""}},
            "hooks.onError",
            "non-empty",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "lock": {"backend": "redis"}},
            "lock.backend",
            "file, dynamodb",
        ),
        (
            {"projectName": "x", "stages": ["dev"], "lock": {"backend": "dynamodb"}},
            "lock.table",
            "missing",
        ),
        ({"projectName": "x", "stages": ["dev"], "rulePaths": "rules"}, "rulePaths", "list"),
        (
            {"projectName": "x", "stages": ["dev"], "preDeploymentChecks": [""]},
            "preDeploymentChecks[0]",
            "non-empty",
        ),
    ],
)
def test_validate_reports_path_and_message(data: dict[str, Any], path: str, message: str) -> None:
    problems = problem_paths(data)
    assert path in problems, problems
    assert message in problems[path]


def test_validate_accepts_absolute_health_check_url() -> None:
    data = {
        "projectName": "x",
        "stages": ["dev"],
        "healthChecks": [{"url": "https://x.example.com/health"}],
    }
    assert validate_deploy_config(data) == []


def test_validate_non_object() -> None:
    assert validate_deploy_config([]) == [ConfigProblem("", "must be a JSON object, not an array")]


def test_validate_cli_prints_each_problem(tmp_path: Path, cli: Cli) -> None:
    data = {
        "projectName": "x",
        "stages": ["dev"],
        "healthChecks": [{"url": "/", "expectedStatus": 99}],
    }
    result = cli("validate", str(write_config(tmp_path, data)))
    assert result.returncode == 2
    assert result.stdout == (
        ".deploy-config.json: healthChecks[0].expectedStatus: must be an integer from 100 to 599\n"
    )


def test_validate_cli_ok_line(cli: Cli) -> None:
    result = cli("validate", str(FIXTURES / "projects" / "healthy"))
    assert result.returncode == 0
    assert result.stdout.startswith(".deploy-config.json is valid")


def test_validate_cli_malformed_json(tmp_path: Path, cli: Cli) -> None:
    result = cli("validate", str(write_config(tmp_path, '{"projectName": }')))
    assert result.returncode == 2
    assert result.stderr.startswith("error: .deploy-config.json:1:17: invalid JSON")
    assert "Traceback" not in result.stderr


def test_validate_cli_missing_file(tmp_path: Path, cli: Cli) -> None:
    result = cli("validate", str(tmp_path))
    assert result.returncode == 2
    assert "no .deploy-config.json" in result.stderr


def facts_of(kind: str, facts: list[Fact]) -> list[Fact]:
    return [fact for fact in facts if fact.kind == kind]


def test_config_facts_point_at_problem_line(tmp_path: Path) -> None:
    text = (
        '{\n  "projectName": "x",\n  "stages": ["dev"],\n  "healthChecks": [\n'
        '    {"url": "/", "expectedStatus": 99}\n  ]\n}\n'
    )
    facts = list(config_facts(write_config(tmp_path, text)))
    (problem,) = facts_of("deploy.config_problem", facts)
    assert problem.get("path") == "healthChecks[0].expectedStatus"
    assert problem.source.line == 5
    (config,) = facts_of("deploy.config", facts)
    assert config.get("valid") is False


def test_config_facts_for_syntax_error(tmp_path: Path) -> None:
    facts = list(config_facts(write_config(tmp_path, '{\n  "stages": [\n}\n')))
    (problem,) = facts_of("deploy.config_problem", facts)
    assert problem.get("where") == "line 3, column 1"
    assert problem.source.line == 3


def test_config_facts_stage_settings(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "projects" / "broken" / ".deploy-config.json", tmp_path)
    facts = list(config_facts(tmp_path))
    stages = facts_of("deploy.stage_config", facts)
    assert [fact.get("stage") for fact in stages] == ["staging", "prod"]
    assert stages[1].get("requires_confirmation") is True
    (config,) = facts_of("deploy.config", facts)
    assert config.get("require_clean_git") is True
    assert config.get("stages") == ["staging", "prod"]


def test_config_facts_without_file(tmp_path: Path) -> None:
    facts = list(config_facts(tmp_path))
    assert [fact.to_dict()["data"] for fact in facts] == [{"present": False}]


def test_invalid_config_rule_in_doctor(tmp_path: Path, cli: Cli) -> None:
    data = {"projectName": "x", "stages": ["dev"], "hooks": {"preDeplo": "npm test"}}
    result = cli(
        "doctor",
        str(write_config(tmp_path, data)),
        "--offline",
        "--select",
        "config",
        "--format",
        "json",
    )
    assert result.returncode == 1
    assert "hooks.preDeplo: unknown hook" in result.stdout
