"""The project's own pre-deploy checks: typecheck, lint, test and build.

`preDeploymentChecks` in `.deploy-config.json` lists shell commands to run
instead. Otherwise every script of package.json named in `SCRIPT_CHECKS` runs
through the project's package manager. Each check runs with `CI=true` (so test
runners such as vitest and jest do not start in watch mode) and a timeout.
Output goes to the check's log and is shown only when the check fails.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploykit.errors import InputError

log = logging.getLogger(__name__)

# Script names, in the order they run (quick checks first), with a timeout in seconds.
SCRIPT_CHECKS: tuple[tuple[str, float], ...] = (
    ("typecheck", 300.0),
    ("type-check", 300.0),
    ("lint", 300.0),
    ("test", 600.0),
    ("build", 900.0),
)
COMMAND_TIMEOUT_SECONDS = 600.0
# The script `npm init` writes; running it would always fail.
NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1'


@dataclass(frozen=True)
class ProjectCheck:
    """One command to run before a deploy: its name, argv, working folder and timeout."""

    name: str
    argv: list[str]
    cwd: Path
    timeout: float

    def describe(self) -> str:
        return shlex.join(self.argv)


def plan_project_checks(root: Path, configured: list[str] | None) -> list[ProjectCheck]:
    """Return the checks to run: `configured` commands, else the package.json scripts."""
    if configured is not None:
        return [
            ProjectCheck(command, ["/bin/sh", "-c", command], root, COMMAND_TIMEOUT_SECONDS)
            for command in configured
        ]

    from deploykit.layout import find_layout
    from deploykit.packagemanager import detect_package_manager, run_script_argv

    package_json = _package_json(root, find_layout(root).sst_dir)
    if package_json is None:
        return []
    scripts = _scripts(package_json)
    manager = detect_package_manager(package_json.parent)

    checks = []
    for name, timeout in SCRIPT_CHECKS:
        script = scripts.get(name)
        if not script or script.strip() == NPM_PLACEHOLDER_TEST:
            continue
        if name == "type-check" and "typecheck" in scripts:
            continue
        argv = run_script_argv(manager, name)
        checks.append(ProjectCheck(name, argv, package_json.parent, timeout))
    return checks


def check_env(base: Mapping[str, str]) -> dict[str, str]:
    """Return the environment for a check: `base` with `CI=true`."""
    env = dict(base or os.environ)
    env["CI"] = "true"
    return env


def _package_json(root: Path, sst_dir: Path) -> Path | None:
    for folder in (root, sst_dir):
        if (folder / "package.json").is_file():
            return folder / "package.json"
    return None


def _scripts(package_json: Path) -> dict[str, str]:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise InputError(
            f"{package_json.name} is not valid JSON ({error}); fix it before deploying"
        ) from None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {name: value for name, value in scripts.items() if isinstance(value, str)}
