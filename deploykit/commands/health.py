"""`deploy-kit health STAGE`: run the configured health checks against a deployed stage."""

from __future__ import annotations

from pathlib import Path

from deploykit.errors import InputError
from deploykit.project import resolve_root


def run_health(path: Path, stage: str, *, base_url: str | None = None) -> int:
    """Run every health check of `.deploy-config.json`; 0 when all pass, 1 otherwise."""
    from deploykit.config import load_deploy_config
    from deploykit.deploy.health import run_health_checks, stage_base_url
    from deploykit.deploy.summary import Output
    from deploykit.layout import find_layout
    from deploykit.sst import read_outputs
    from deploykit.stages import validate_stage_name

    root = resolve_root(path)
    config = load_deploy_config(root)
    if config is None:
        raise InputError(
            f".deploy-config.json not found in {root}; add a `healthChecks` list there "
            "to describe the endpoints to check"
        )
    validate_stage_name(stage, config.stages)

    output = Output()
    checks = config.health_checks
    if not checks:
        output.note("no healthChecks in .deploy-config.json; nothing to check")
        return 0
    outputs = read_outputs(find_layout(root).sst_dir)
    base = stage_base_url(base_url, config.stage_config(stage).domain, outputs)

    output.heading(f"Health checks for {stage}")
    results = run_health_checks(checks, base)
    output.health(results)
    failed = sum(1 for result in results if not result.ok)
    if failed:
        output.fail(f"{failed} of {len(results)} health checks failed")
        return 1
    output.note(f"all {len(results)} health checks passed")
    return 0
