"""Install a package's dependencies exactly as its lockfile pins them.

Used when node_modules lacks a declared package (or holds an older major than
declared), so that the project's own `sst` binary runs instead of one that
`npx` downloads. The install never changes the lockfile: `npm ci`,
`pnpm install --frozen-lockfile`, `yarn install --frozen-lockfile` (Yarn 1) or
`--immutable` (Yarn 2+), `bun install --frozen-lockfile` fail instead when the
lockfile is out of date. It only rewrites node_modules, which is regenerable,
so the plan is safe. Without a lockfile an install would write a new one, so
the plan is downgraded to manual.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from deploykit.packagemanager import PackageManager, detect_package_manager
from engine.fixing import FixContext
from engine.model import Finding, Safety
from engine.paths import PathEscapeError, resolve_inside
from engine.plan import CommandStep, FixPlan


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan the frozen install in the folder of `params.package_json` (a fact field name)."""
    field = str(params.get("package_json", "declared_in"))
    package_json = finding.fact.get(field) if finding.fact is not None else None
    if not isinstance(package_json, str) or not package_json:
        return None
    try:
        folder = resolve_inside(context.root, str(PurePosixPath(package_json).parent))
    except PathEscapeError:
        return None

    manager = detect_package_manager(folder)
    try:
        cwd = manager.root.relative_to(context.root.resolve()).as_posix() or "."
    except ValueError:
        # The lockfile belongs to a workspace above the project root: not ours to run in.
        return None
    argv = install_argv(manager)
    safety: Safety = "safe" if manager.lockfiles else "manual"
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="install-dependencies",
        safety=safety,
        description=f"install the dependencies in {cwd} with `{' '.join(argv)}`",
        commands=(CommandStep(tuple(argv), "install the locked dependencies", cwd=cwd),),
    )


def install_argv(manager: PackageManager) -> list[str]:
    """Return the install command that keeps the lockfile as it is."""
    if not manager.lockfiles:
        return [manager.name, "install"]
    if manager.name == "npm":
        return ["npm", "ci"]
    if manager.name == "yarn" and _is_yarn_berry(manager.root):
        return ["yarn", "install", "--immutable"]
    return [manager.name, "install", "--frozen-lockfile"]


def _is_yarn_berry(root: Path) -> bool:
    # Yarn 2 and later read .yarnrc.yml; Yarn 1 reads .yarnrc.
    return (root / ".yarnrc.yml").is_file()
