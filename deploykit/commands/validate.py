"""`deploy-kit validate [PATH]`: check `.deploy-config.json` and list every problem."""

from __future__ import annotations

from pathlib import Path

import typer

from deploykit.config import CONFIG_NAME, load_deploy_config, validate_deploy_config
from deploykit.errors import InputError
from deploykit.project import resolve_root


def run_validate(path: Path) -> int:
    """Print each problem as `.deploy-config.json: PATH: MESSAGE`; 2 when any, else 0."""
    root = resolve_root(path)
    config = load_deploy_config(root)
    if config is None:
        raise InputError(
            f"no {CONFIG_NAME} in {root}; create one with at least projectName and stages"
        )

    problems = validate_deploy_config(config.raw)
    for problem in problems:
        typer.echo(f"{CONFIG_NAME}: {problem.path}: {problem.message}")
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        typer.echo(f"{CONFIG_NAME} is invalid: {len(problems)} {noun}", err=True)
        return 2

    stages = ", ".join(config.stages)
    checks = len(config.health_checks)
    noun = "health check" if checks == 1 else "health checks"
    typer.echo(f"{CONFIG_NAME} is valid: stages {stages}; {checks} {noun}")
    return 0
