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


@pytest.fixture(scope="session")
def _rule_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    _rule_cache_home: Path,
) -> None:
    """Keep every test away from real AWS, the user's AWS files and the user's cache.

    AWS calls go to a closed port on 127.0.0.1 unless a test sets AWS_ENDPOINT_URL
    (the moto fixtures do), so a test without the moto server fails fast as
    "could not check" instead of reaching AWS with the machine's credentials.
    """
    home = tmp_path_factory.mktemp("aws-home")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XDG_CACHE_HOME", str(_rule_cache_home))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "CI"):
        monkeypatch.delenv(name, raising=False)


pytest_plugins = ["tests.aws_server"]
