"""Shared test fixtures: the CLI runner and sample projects copied under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CASES = FIXTURES / "cases"


@pytest.fixture
def copy_project(tmp_path: Path) -> Callable[[str], Path]:
    """Copy `fixtures/projects/NAME` (or any fixtures-relative folder) under tmp_path."""

    def copy(name: str) -> Path:
        source = FIXTURES / name if "/" in name else FIXTURES / "projects" / name
        target = tmp_path / source.name
        shutil.copytree(source, target, symlinks=True)
        return target

    return copy


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
    input: str | None = None, timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `deploy-kit ARGS` as a real process, colour off, fixed width."""
    full_env = dict(os.environ)
    full_env.update({"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"})
    full_env.pop("CI", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "deploykit", *args],
        cwd=cwd, env=full_env, input=input, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


pytest_plugins = ["tests.aws_server"]
