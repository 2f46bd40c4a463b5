"""`deploy-kit deploy STAGE`: check, deploy with SST, health-check, invalidate, summarise."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from deploykit.project import resolve_root


def run_deploy(
    path: Path, stage: str, *, profile: str | None, dry_run: bool, yes: bool, fix: bool,
    retry: int, wait: bool, verbose: bool, base_url: str | None = None,
) -> int:
    from deploykit.config import load_deploy_config
    from deploykit.deploy.pipeline import DeployOptions, DeployPipeline
    from deploykit.deploy.summary import Output
    from deploykit.stages import validate_stage_name

    root = resolve_root(path)
    config = load_deploy_config(root)
    validate_stage_name(stage, config.stages if config else [])

    options = DeployOptions(
        root=root, stage=stage, profile=profile, dry_run=dry_run, yes=yes, fix=fix,
        retry=retry, wait=wait, verbose=verbose, base_url=base_url,
        interactive=sys.stdin.isatty() and sys.stdout.isatty(), env=dict(os.environ),
    )
    return DeployPipeline(options, config, Output()).run()
