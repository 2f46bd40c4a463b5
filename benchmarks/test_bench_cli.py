"""Whole-process timings of the CLI. Run with `make bench` (pytest --benchmark-enable).

Targets on a 2-core machine: `deploy-kit doctor --offline` on a copy of the
broken sample at most 300 ms, `deploy-kit --help` at most 150 ms. The numbers
measured are in docs/benchmarks.md; nothing here fails on a slow run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "deploykit", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="100", XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("CI", None)
    return env


def test_bench_doctor_offline_broken(
    benchmark: Any, tmp_path: Path, environment: dict[str, str]
) -> None:
    project = tmp_path / "broken"
    shutil.copytree(REPO / "fixtures" / "projects" / "broken", project, symlinks=True)
    # The first run fills the rule cache, as any run after an install would.
    run("doctor", str(project), "--offline", env=environment)

    benchmark.pedantic(
        run,
        args=("doctor", str(project), "--offline"),
        kwargs={"env": environment},
        rounds=10,
        warmup_rounds=1,
    )


def test_bench_doctor_offline_without_rule_cache(
    benchmark: Any, tmp_path: Path, environment: dict[str, str]
) -> None:
    project = tmp_path / "broken"
    shutil.copytree(REPO / "fixtures" / "projects" / "broken", project, symlinks=True)
    environment["DEPLOY_KIT_NO_RULE_CACHE"] = "1"

    benchmark.pedantic(
        run,
        args=("doctor", str(project), "--offline"),
        kwargs={"env": environment},
        rounds=5,
        warmup_rounds=1,
    )


def test_bench_help(benchmark: Any, environment: dict[str, str]) -> None:
    benchmark.pedantic(
        run, args=("--help",), kwargs={"env": environment}, rounds=10, warmup_rounds=1
    )
