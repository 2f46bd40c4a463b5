"""Sample projects prepared for runs with the fake sst: a git repository and AWS profiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.fakesst import install_fake_sst

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# sst.config.ts of the healthy project picks notes-prod for production, notes-dev otherwise.
PROFILES = ("notes-dev", "notes-prod")
GITIGNORE = ".deploy-kit/\n.sst/\nnode_modules/\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
        cwd=root, check=True, capture_output=True,
    )


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def prepare_healthy_project(target: Path, config_changes: dict[str, Any]) -> Path:
    """Copy the healthy sample to `target`, change its deploy config, install the fake, commit."""
    shutil.copytree(FIXTURES / "projects" / "healthy", target, symlinks=True)
    (target / ".gitignore").write_text(GITIGNORE)
    config_path = target / ".deploy-config.json"
    config = json.loads(config_path.read_text())
    config.update(config_changes)
    config_path.write_text(json.dumps(config, indent=2))
    install_fake_sst(target)
    git(target, "init", "-q", "-b", "main")
    commit_all(target, "Initial commit")
    return target


def write_aws_profiles(aws_env: dict[str, str]) -> None:
    """Define the sample's profiles in the test's AWS files; moto accepts any keys."""
    Path(aws_env["AWS_CONFIG_FILE"]).write_text(
        "".join(f"[profile {name}]\nregion = eu-west-1\n" for name in PROFILES)
    )
    Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text("".join(
        f"[{name}]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        for name in PROFILES
    ))
