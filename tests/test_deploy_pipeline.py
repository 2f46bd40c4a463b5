"""The deploy pipeline in-process: confirmation prompts and the dry-run plan."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from deploykit.config import load_deploy_config
from deploykit.deploy.pipeline import DeployOptions, DeployPipeline
from deploykit.deploy.summary import Output
from deploykit.errors import UsageError
from tests.conftest import FIXTURES


def _pipeline(root: Path, stage: str, answers: list[str], **options: object) -> DeployPipeline:
    prompts = iter(answers)
    config = load_deploy_config(root)
    return DeployPipeline(
        DeployOptions(root=root, stage=stage, **options),  # type: ignore[arg-type]
        config, Output(io.StringIO()), ask=lambda prompt: next(prompts),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "notes"
    target.mkdir()
    config = json.loads((FIXTURES / "projects" / "healthy" / ".deploy-config.json").read_text())
    (target / ".deploy-config.json").write_text(json.dumps(config))
    return target


def test_confirmation_accepts_typed_stage(root: Path) -> None:
    pipeline = _pipeline(root, "production", ["production"], interactive=True)

    pipeline.require_confirmation()


def test_confirmation_rejects_other_text(root: Path) -> None:
    pipeline = _pipeline(root, "production", ["yes"], interactive=True)

    with pytest.raises(UsageError, match="does not match stage 'production'"):
        pipeline.require_confirmation()


def test_confirmation_needs_terminal_or_yes(root: Path) -> None:
    pipeline = _pipeline(root, "production", [], interactive=False)

    with pytest.raises(UsageError, match="--yes"):
        pipeline.require_confirmation()


def test_confirmation_skipped_with_yes(root: Path) -> None:
    pipeline = _pipeline(root, "production", [], interactive=False, yes=True)

    pipeline.require_confirmation()


def test_confirmation_not_asked_for_unprotected_stage(root: Path) -> None:
    pipeline = _pipeline(root, "staging", [], interactive=True)

    pipeline.require_confirmation()
