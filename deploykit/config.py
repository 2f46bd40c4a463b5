"""Load and validate `.deploy-config.json`, the project's deploy settings.

The format is the one the TypeScript deploy-kit reads, so existing projects
keep their file:

    {
      "projectName": "shop",
      "awsProfile": "shop-dev",
      "requireCleanGit": true,
      "stages": ["staging", "prod"],
      "mainDomain": "shop.example.com",
      "stageConfig": {"prod": {"domain": "shop.example.com", "requiresConfirmation": true,
                               "skipCacheInvalidation": false, "awsProfile": "shop-prod",
                               "branch": "main"}},
      "healthChecks": [{"url": "/api/health", "expectedStatus": 200, "timeout": 5000,
                        "searchText": "OK", "name": "API"}],
      "hooks": {"preDeploy": "npm test", "postBuild": "...", "postDeploy": "...", "onError": "..."},
      "customDeployScript": "./scripts/deploy.sh",
      "preDeploymentChecks": ["npm run typecheck"],
      "lock": {"backend": "dynamodb", "table": "deploy-locks"},
      "rulePaths": ["tools/deploy-rules"]
    }

`load_deploy_config` only parses; `validate_deploy_config` lists every problem
with its path, so `deploy-kit validate` can report them all at once. The
accessors on `DeployConfig` fall back to defaults for values of the wrong
type, so commands can still read a file that the validator rejects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from deploykit.errors import InputError
from deploykit.jsonspans import JsonPath, format_path
from deploykit.stages import STAGE_NAME

CONFIG_NAME = ".deploy-config.json"
HOOK_NAMES = ("preDeploy", "postBuild", "postDeploy", "onError")
LOCK_BACKENDS = ("file", "dynamodb")
DEFAULT_EXPECTED_STATUS = 200
DEFAULT_TIMEOUT_MS = 5000
# RFC 1123 host names: labels of letters, digits and hyphens, at least one dot.
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# DynamoDB table names: 3 to 255 of letters, digits, `_`, `-` and `.`.
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
ABSOLUTE_URL = re.compile(r"^https?://[^/\s]+")

# Receives each problem found: the location of the value and what is wrong with it.
ProblemSink = Callable[[JsonPath, str], None]


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid setting: its path (`healthChecks[0].expectedStatus`) and what is wrong.

    `location` is the same path as a tuple of keys and indexes, for finding its line.
    """

    path: str
    message: str
    location: JsonPath = ()


@dataclass(frozen=True)
class StageConfig:
    """Settings of one stage, with the project-wide defaults filled in."""

    stage: str
    domain: str | None = None
    requires_confirmation: bool = False
    skip_cache_invalidation: bool = False
    aws_profile: str | None = None
    branch: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    """One endpoint to request after a deploy; `url` is a path or an absolute URL."""

    url: str
    expected_status: int = DEFAULT_EXPECTED_STATUS
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    search_text: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class DeployConfig:
    """The parsed `.deploy-config.json`; `raw` is the JSON object as loaded."""

    raw: Mapping[str, Any]
    path: Path | None = None
    text: str = field(default="", repr=False)

    @property
    def project_name(self) -> str | None:
        return _string(self.raw.get("projectName"))

    @property
    def aws_profile(self) -> str | None:
        return _string(self.raw.get("awsProfile"))

    @property
    def stages(self) -> list[str]:
        stages = self.raw.get("stages")
        if not isinstance(stages, list):
            return []
        return [stage for stage in stages if isinstance(stage, str)]

    @property
    def require_clean_git(self) -> bool:
        """Whether a deploy needs a clean git tree; true unless set to false."""
        return self.raw.get("requireCleanGit") is not False

    @property
    def main_domain(self) -> str | None:
        return _string(self.raw.get("mainDomain"))

    def stage_config(self, stage: str) -> StageConfig:
        stages = self.raw.get("stageConfig")
        settings = stages.get(stage) if isinstance(stages, Mapping) else None
        if not isinstance(settings, Mapping):
            settings = {}
        return StageConfig(
            stage=stage,
            domain=_string(settings.get("domain")),
            requires_confirmation=settings.get("requiresConfirmation") is True,
            skip_cache_invalidation=settings.get("skipCacheInvalidation") is True,
            aws_profile=_string(settings.get("awsProfile")) or self.aws_profile,
            branch=_string(settings.get("branch")),
        )

    @property
    def health_checks(self) -> list[HealthCheck]:
        checks = self.raw.get("healthChecks")
        if not isinstance(checks, list):
            return []
        found = []
        for check in checks:
            if not isinstance(check, Mapping) or not _string(check.get("url")):
                continue
            status = check.get("expectedStatus")
            timeout = check.get("timeout")
            found.append(HealthCheck(
                url=str(check["url"]),
                expected_status=status if _is_int(status) else DEFAULT_EXPECTED_STATUS,
                timeout_ms=timeout if _is_int(timeout) and timeout > 0 else DEFAULT_TIMEOUT_MS,
                search_text=_string(check.get("searchText")),
                name=_string(check.get("name")),
            ))
        return found

    @property
    def hooks(self) -> dict[str, str]:
        hooks = self.raw.get("hooks")
        if not isinstance(hooks, Mapping):
            return {}
        return {name: hooks[name] for name in HOOK_NAMES if _string(hooks.get(name))}

    @property
    def custom_deploy_script(self) -> str | None:
        return _string(self.raw.get("customDeployScript"))

    @property
    def pre_deployment_checks(self) -> list[str] | None:
        checks = self.raw.get("preDeploymentChecks")
        if not isinstance(checks, list):
            return None
        return [check for check in checks if isinstance(check, str) and check.strip()]

    @property
    def lock(self) -> dict[str, str]:
        """The deploy lock backend: `{"backend": "file"}` unless a DynamoDB table is set."""
        lock = self.raw.get("lock")
        if not isinstance(lock, Mapping):
            return {"backend": "file"}
        if lock.get("backend") == "dynamodb" and _string(lock.get("table")):
            return {"backend": "dynamodb", "table": str(lock["table"])}
        return {"backend": "file"}

    @property
    def rule_paths(self) -> list[str]:
        paths = self.raw.get("rulePaths")
        if not isinstance(paths, list):
            return []
        return [path for path in paths if isinstance(path, str) and path]


def load_deploy_config(root: Path) -> DeployConfig | None:
    """Read `ROOT/.deploy-config.json`; None when the file does not exist.

    Raises `InputError` naming file:line:column when the file is not valid
    JSON, or is not a JSON object.
    """
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise InputError(f"{CONFIG_NAME} is not valid UTF-8; save it as UTF-8") from None
    except OSError as error:
        raise InputError(f"cannot read {CONFIG_NAME}: {error.strerror}") from None
    data = parse_config_text(text)
    return DeployConfig(raw=data, path=path, text=text)


def parse_config_text(text: str) -> dict[str, Any]:
    """Parse the file's text; raise `InputError` with line and column when it is invalid."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{CONFIG_NAME}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}; "
            "fix the syntax (JSON allows no comments or trailing commas)"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"{CONFIG_NAME}:1:1: the file must contain a JSON object, not {_json_type(data)}"
        )
    return data


def validate_deploy_config(data: Any) -> list[ConfigProblem]:
    """Return every problem in the parsed config, in file order of the keys checked."""
    problems: list[ConfigProblem] = []
    if not isinstance(data, Mapping):
        return [ConfigProblem("", f"must be a JSON object, not {_json_type(data)}")]

    def problem(location: JsonPath, message: str) -> None:
        problems.append(ConfigProblem(format_path(location) or "(root)", message, location))

    for key in ("projectName", "awsProfile", "infrastructure", "database", "customDeployScript"):
        if key in data and not _string(data[key]):
            problem((key,), "must be a non-empty string")
    if "projectName" not in data:
        problem(("projectName",), "missing; set it to the project's name")
    if "requireCleanGit" in data and not isinstance(data["requireCleanGit"], bool):
        problem(("requireCleanGit",), "must be true or false")
    if "mainDomain" in data and not _hostname(data["mainDomain"]):
        problem(("mainDomain",), "must be a domain name such as example.com")

    _validate_stages(data, problem)
    _validate_stage_config(data, DeployConfig(raw=data).stages, problem)
    _validate_health_checks(data, problem)
    _validate_hooks(data, problem)
    _validate_checks_and_paths(data, problem)
    _validate_lock(data, problem)
    return problems


def _validate_stages(data: Mapping[str, Any], problem: ProblemSink) -> None:
    if "stages" not in data:
        problem(("stages",), 'missing; list the stages to deploy, such as ["staging", "prod"]')
        return
    stages = data["stages"]
    if not isinstance(stages, list) or not stages:
        problem(("stages",), "must be a non-empty list of stage names")
        return
    valid: list[str] = []
    for index, stage in enumerate(stages):
        if not isinstance(stage, str) or not STAGE_NAME.fullmatch(stage):
            problem(
                ("stages", index),
                f"invalid stage name {json.dumps(stage)}; use lowercase letters, digits and "
                "hyphens, not starting with a hyphen",
            )
        elif stage in valid:
            problem(("stages", index), f"stage {json.dumps(stage)} is listed twice")
        else:
            valid.append(stage)


def _validate_stage_config(
    data: Mapping[str, Any], stages: list[str], problem: ProblemSink,
) -> None:
    if "stageConfig" not in data:
        return
    stage_config = data["stageConfig"]
    if not isinstance(stage_config, Mapping):
        problem(("stageConfig",), "must be an object keyed by stage name")
        return
    for stage, settings in stage_config.items():
        where: JsonPath = ("stageConfig", stage)
        if stages and stage not in stages:
            listed = ", ".join(stages)
            problem(
                where,
                f"stage {json.dumps(stage)} is not in `stages` ({listed}); "
                "add it there or remove this entry",
            )
        if not isinstance(settings, Mapping):
            problem(where, "must be an object")
            continue
        if "domain" in settings and not _hostname(settings["domain"]):
            problem((*where, "domain"), "must be a domain name such as staging.example.com")
        for key in ("requiresConfirmation", "skipCacheInvalidation"):
            if key in settings and not isinstance(settings[key], bool):
                problem((*where, key), "must be true or false")
        for key in ("awsProfile", "branch"):
            if key in settings and not _string(settings[key]):
                problem((*where, key), "must be a non-empty string")


def _validate_health_checks(data: Mapping[str, Any], problem: ProblemSink) -> None:
    if "healthChecks" not in data:
        return
    checks = data["healthChecks"]
    if not isinstance(checks, list):
        problem(("healthChecks",), "must be a list of health checks")
        return
    for index, check in enumerate(checks):
        where: JsonPath = ("healthChecks", index)
        if not isinstance(check, Mapping):
            problem(where, "must be an object with at least `url`")
            continue
        url = check.get("url")
        if "url" not in check:
            problem((*where, "url"), "missing; set a path such as /api/health or an https:// URL")
        elif not isinstance(url, str) or not (url.startswith("/") or ABSOLUTE_URL.match(url)):
            problem((*where, "url"), "must be a path starting with / or an http:// or https:// URL")
        status = check.get("expectedStatus")
        if "expectedStatus" in check and not (_is_int(status) and 100 <= status <= 599):
            problem((*where, "expectedStatus"), "must be an integer from 100 to 599")
        timeout = check.get("timeout")
        if "timeout" in check and not (_is_int(timeout) and timeout > 0):
            problem((*where, "timeout"), "must be a positive integer number of milliseconds")
        for key in ("searchText", "name"):
            if key in check and not _string(check[key]):
                problem((*where, key), "must be a non-empty string")


def _validate_hooks(data: Mapping[str, Any], problem: ProblemSink) -> None:
    if "hooks" not in data:
        return
    hooks = data["hooks"]
    if not isinstance(hooks, Mapping):
        problem(("hooks",), f"must be an object with any of {', '.join(HOOK_NAMES)}")
        return
    for name, command in hooks.items():
        if name not in HOOK_NAMES:
            problem(("hooks", name), f"unknown hook; use one of {', '.join(HOOK_NAMES)}")
        elif not _string(command):
            problem(("hooks", name), "must be a non-empty command string")


def _validate_checks_and_paths(data: Mapping[str, Any], problem: ProblemSink) -> None:
    for key, noun in (("preDeploymentChecks", "command"), ("rulePaths", "folder path")):
        if key not in data:
            continue
        items = data[key]
        if not isinstance(items, list):
            problem((key,), f"must be a list of {noun} strings")
            continue
        for index, item in enumerate(items):
            if not _string(item):
                problem((key, index), f"must be a non-empty {noun} string")


def _validate_lock(data: Mapping[str, Any], problem: ProblemSink) -> None:
    if "lock" not in data:
        return
    lock = data["lock"]
    if not isinstance(lock, Mapping):
        problem(("lock",), "must be an object such as {\"backend\": \"file\"}")
        return
    backend = lock.get("backend", "file")
    if backend not in LOCK_BACKENDS:
        problem(("lock", "backend"), f"must be one of {', '.join(LOCK_BACKENDS)}")
    table = lock.get("table")
    if backend == "dynamodb" and "table" not in lock:
        problem(("lock", "table"), "missing; the dynamodb backend needs a DynamoDB table name")
    elif "table" in lock and not (isinstance(table, str) and TABLE_NAME.fullmatch(table)):
        problem(("lock", "table"), "must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ - .")


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _hostname(value: Any) -> bool:
    return isinstance(value, str) and HOSTNAME.fullmatch(value) is not None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "an object"
