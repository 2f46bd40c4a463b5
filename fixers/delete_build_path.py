"""Remove a regenerable build path such as `.sst/` or `.next/`.

Only paths at or below a build folder qualify: `.sst`, `.next`, `.open-next`,
`.turbo`, `.vercel` and `node_modules/.cache`, at the project root or in a
sub-folder (monorepo apps). The path is checked as written and again after
symlinks are resolved, so a link from `.next` to `src/` is not followed.

A plan does not delete outright: its command moves the path into
`.deploy-kit/trash/TIMESTAMP/`, where the tool that built it no longer sees it
and from where a person can move it back. The command is this module run as
`python -m fixers.delete_build_path PATH` from the project root, and it repeats
every check at the moment it runs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import PathEscapeError, resolve_inside
from engine.plan import CommandStep, FixPlan
from engine.templates import render
from fixers.params import Param, check_relative_path

log = logging.getLogger(__name__)

BUILD_DIRS = frozenset({".sst", ".next", ".open-next", ".turbo", ".vercel"})
TRASH_DIR = ".deploy-kit/trash"

PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan": {
        "path": Param(
            "path",
            "build path relative to the project root, such as `.sst` or `apps/web/.next/cache`",
            required=True,
        ),
        "description": Param("string", "one-line description of why the path goes"),
    },
}


class NotBuildPathError(ValueError):
    """A path that is not at or below a regenerable build folder."""


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan moving the build path `path` aside; no plan when it does not exist."""
    relative = render(str(params.get("path", "")), finding.match, finding.rule.aliases)
    try:
        target = check_build_path(context.root, relative)
    except (PathEscapeError, NotBuildPathError) as error:
        log.warning("rule %s: no build path removal planned: %s", finding.rule.id, error)
        return None
    if not target.exists():
        return None

    shown = PurePosixPath(relative.replace("\\", "/")).as_posix()
    description = render(
        str(params.get("description", f"move {shown} aside; it is regenerated on the next build")),
        finding.match,
        finding.rule.aliases,
    )
    step = CommandStep(
        (sys.executable, "-m", "fixers.delete_build_path", shown),
        description=f"move {shown} into {TRASH_DIR}/",
    )
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="delete-build-path",
        safety="safe",
        description=description,
        commands=(step,),
        steps=(
            f"Delete `{shown}` (or move it out of the project); the next build regenerates it.",
        ),
    )


def check_build_path(root: Path, relative: str) -> Path:
    """Return the resolved path when `relative` is a build path inside `root`, else raise."""
    problem = check_relative_path(relative) if relative else "no path given"
    if problem is not None:
        raise PathEscapeError(problem)
    written = PurePosixPath(relative.replace("\\", "/"))
    if not is_build_path(written.parts):
        raise NotBuildPathError(
            f"path {relative!r} is not inside a build folder ({', '.join(sorted(BUILD_DIRS))}, "
            "node_modules/.cache), so it may hold work that cannot be regenerated"
        )
    resolved = resolve_inside(root, relative)
    inside = resolved.relative_to(root.resolve()).parts
    if not is_build_path(inside):
        raise NotBuildPathError(
            f"path {relative!r} resolves to {'/'.join(inside) or '.'}, which is not inside a "
            "build folder (a symlink points out of it)"
        )
    return resolved


def is_build_path(parts: Sequence[str]) -> bool:
    for index, part in enumerate(parts):
        if part in BUILD_DIRS:
            return True
        if part == ".cache" and index > 0 and parts[index - 1] == "node_modules":
            return True
    return False


def move_aside(root: Path, relative: str) -> Path | None:
    """Move the build path into the trash folder; return where it went, None if absent."""
    source = check_build_path(root, relative)
    if not source.exists() and not source.is_symlink():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    destination = (
        root.resolve() / TRASH_DIR / f"{stamp}-{os.getpid()}" / source.relative_to(root.resolve())
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, destination)
    return destination


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fixers.delete_build_path PATH", file=sys.stderr)
        return 2
    root = Path.cwd()
    try:
        moved = move_aside(root, argv[0])
    except (PathEscapeError, NotBuildPathError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if moved is None:
        print(f"{argv[0]} does not exist; nothing to move")
    else:
        print(f"moved {argv[0]} to {moved.relative_to(root.resolve()).as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
