"""`.sst` health: the SST platform folder, stray `.sst` copies and leftover local locks.

SST v3 keeps its working state in `.sst/` beside sst.config.ts. `.sst/platform`
contains the TypeScript types (`config.d.ts`) and the Pulumi packages
(`node_modules`, at least `@pulumi/pulumi`) that run the config. The stage
state itself lives in the cloud, so `.sst/` can be regenerated.

Facts:

- `sst.dir` (one, when the project has an sst.config): `path`, `exists`,
  `platform` (`.sst/platform` exists), `config_dts`, `node_modules`,
  `pulumi_package` (`node_modules/@pulumi/pulumi`), `complete` (all present),
  `missing` (relative paths of the missing parts, when `platform` is true).
- `sst.nested_dir` (one per copy): a `.sst` folder inside build output such as
  `.open-next` or `.next`: `path`, `artifact` (the build folder it is in).
- `sst.local_lock` (one per file): `.sst/lock` or a Pulumi lock file under
  `.sst/.pulumi/locks`: `path`, `kind` (sst or pulumi), `age_seconds`, `pid`,
  `host`, `same_host`, `holder_alive` (None when unknown).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from deploykit.layout import find_layout
from deploykit.procinfo import pid_alive
from engine.facts import Fact, Source

ARTIFACT_DIRS = (".open-next", ".next", ".vercel", "dist", "build", "out")
MAX_WALK_DEPTH = 8
MAX_WALK_ENTRIES = 50_000


def collect(context: RunContext) -> Iterable[Fact]:
    layout = find_layout(context.root)
    if layout.sst_config is None:
        return
    sst_dir = layout.sst_dir / ".sst"
    relative = layout.relative(sst_dir)

    yield _dir_fact(sst_dir, relative)
    yield from _nested_dirs(layout.root, [layout.root, *(p.parent for p in layout.package_jsons)])
    if sst_dir.is_dir():
        yield from _local_locks(sst_dir, relative)


def _dir_fact(sst_dir: Path, relative: str) -> Fact:
    platform = sst_dir / "platform"
    parts = {
        "config_dts": platform / "config.d.ts",
        "node_modules": platform / "node_modules",
        "pulumi_package": platform / "node_modules" / "@pulumi" / "pulumi",
    }
    present = {name: path.exists() for name, path in parts.items()}
    missing = [f"{relative}/{path.relative_to(sst_dir).as_posix()}"
               for name, path in parts.items() if not present[name]]
    has_platform = platform.is_dir()
    return Fact(
        "sst.dir",
        {
            "path": relative,
            "exists": sst_dir.is_dir(),
            "platform": has_platform,
            **present,
            "complete": has_platform and not missing,
            "missing": missing if has_platform else [],
        },
        Source(file=f"{relative}/platform" if has_platform else relative),
    )


def _nested_dirs(root: Path, folders: Iterable[Path]) -> Iterator[Fact]:
    seen: set[Path] = set()
    budget = [MAX_WALK_ENTRIES]
    for folder in dict.fromkeys(folders):
        for artifact in ARTIFACT_DIRS:
            top = folder / artifact
            if not top.is_dir() or top.is_symlink():
                continue
            for found in _find_sst_dirs(top, 0, budget):
                if found in seen:
                    continue
                seen.add(found)
                path = found.relative_to(root).as_posix()
                yield Fact(
                    "sst.nested_dir",
                    {"path": path, "artifact": top.relative_to(root).as_posix()},
                    Source(file=path),
                )


def _find_sst_dirs(folder: Path, depth: int, budget: list[int]) -> Iterator[Path]:
    """Yield `.sst` folders below `folder`, skipping node_modules, within a walk budget."""
    if depth > MAX_WALK_DEPTH or budget[0] <= 0:
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    budget[0] -= len(entries)
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or entry.name == "node_modules":
            continue
        if entry.name == ".sst":
            yield Path(entry.path)
            continue
        yield from _find_sst_dirs(Path(entry.path), depth + 1, budget)


def _local_locks(sst_dir: Path, relative: str) -> Iterator[Fact]:
    candidates = [("sst", sst_dir / "lock")]
    pulumi_locks = sst_dir / ".pulumi" / "locks"
    if pulumi_locks.is_dir():
        candidates.extend(("pulumi", path) for path in sorted(pulumi_locks.rglob("*.json")))
    now = time.time()
    for kind, path in candidates:
        try:
            stat = path.stat()
        except OSError:
            continue
        if not path.is_file():
            continue
        pid, host = _holder(path)
        same_host = host is None or host == socket.gethostname()
        alive = pid_alive(pid) if pid is not None and same_host else None
        shown = f"{relative}/{path.relative_to(sst_dir).as_posix()}"
        yield Fact(
            "sst.local_lock",
            {
                "path": shown,
                "kind": kind,
                "age_seconds": int(now - stat.st_mtime),
                "pid": pid,
                "host": host,
                "same_host": same_host,
                "holder_alive": alive,
            },
            Source(file=shown),
        )


def _holder(path: Path) -> tuple[int | None, str | None]:
    """Read the pid and host from a lock file: Pulumi's JSON, or a bare pid."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None, None
    if text.isdigit():
        return int(text), None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    pid = data.get("pid")
    host = data.get("hostname") or data.get("host")
    return (pid if isinstance(pid, int) else None), (str(host) if host else None)
