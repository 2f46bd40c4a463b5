"""Reinstall the SST platform packages in `.sst/platform` with the project's own `sst install`.

Safe only when no SST process runs for the project (a running `sst dev` reads
`.sst/platform`) and the project has a local `node_modules/.bin/sst`, so the
version in package.json runs, not whatever a registry would download.
Otherwise the plan is manual and lists what to do first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploykit.collectors.processes import project_sst_processes
from deploykit.layout import find_layout
from engine.fixing import FixContext
from engine.model import Finding
from engine.plan import CommandStep, FixPlan
from fixers.params import Param

NAME = "regenerate-sst-platform"
PARAMETERS: Mapping[str, Mapping[str, Param]] = {"plan": {}}


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `sst install` in the folder of sst.config.ts."""
    from deploykit.packagemanager import (
        detect_package_manager,
        exec_argv,
        find_local_binary,
    )

    layout = find_layout(context.root)
    if layout.sst_config is None:
        return None
    folder = layout.sst_dir
    relative = layout.relative(folder) if folder != layout.root else "."
    manager = detect_package_manager(folder)
    install = CommandStep(
        tuple(exec_argv(manager, "sst", ["install"])),
        description="reinstall the SST platform packages in .sst/platform",
        cwd=relative,
    )

    running = project_sst_processes(context.root, context.facts)
    if running:
        listed = ", ".join(f"pid {p.get('pid')} (`{p.get('command')}`)" for p in running)
        return FixPlan(
            rule_id=finding.rule.id,
            fixer=NAME,
            safety="manual",
            description=f"stop SST ({listed}), then run sst install",
            commands=(install,),
            steps=(
                f"SST is running for this project: {listed}. Stop it (Ctrl+C in its terminal).",
                f"Then run `{install.display()}` in {relative}.",
            ),
        )

    if find_local_binary(folder, "sst") is None:
        dependencies = CommandStep(
            (manager.name, "install"),
            description="install the project's dependencies",
            cwd=relative,
        )
        return FixPlan(
            rule_id=finding.rule.id,
            fixer=NAME,
            safety="manual",
            description="install the project's dependencies, then run sst install",
            commands=(dependencies, install),
            steps=(
                f"No node_modules/.bin/sst was found from {relative} upwards, so the SST "
                "version of package.json is not installed.",
                f"Run `{dependencies.display()}`, then `{install.display()}`.",
            ),
        )

    return FixPlan(
        rule_id=finding.rule.id,
        fixer=NAME,
        safety="safe",
        description=f"run sst install in {relative} to reinstall .sst/platform",
        commands=(install,),
    )
