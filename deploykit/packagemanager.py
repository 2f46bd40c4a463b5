"""Package-manager detection, and the argv that runs a project's scripts and binaries.

The lockfile decides: `pnpm-lock.yaml` means pnpm, `yarn.lock` yarn,
`bun.lock`/`bun.lockb` bun, `package-lock.json`/`npm-shrinkwrap.json` npm.
When a folder has lockfiles of several managers, the `packageManager` field
of package.json (Corepack's `NAME@VERSION`) breaks the tie. Detection walks up
from the folder, because workspaces keep one lockfile at the monorepo root.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ManagerName = Literal["npm", "pnpm", "yarn", "bun"]
Source = Literal["lockfile", "packageManager", "default"]

LOCKFILES: dict[str, ManagerName] = {
    "pnpm-lock.yaml": "pnpm",
    "yarn.lock": "yarn",
    "bun.lock": "bun",
    "bun.lockb": "bun",
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
}
# Order used when several lockfiles exist and package.json names no manager:
# a stray package-lock.json (from one `npm install`) is the most common extra.
PREFERENCE: tuple[ManagerName, ...] = ("pnpm", "yarn", "bun", "npm")
MANAGERS: frozenset[str] = frozenset(PREFERENCE)


@dataclass(frozen=True)
class PackageManager:
    """The package manager of `folder`.

    `lockfiles` are the lockfile names found in `root`, the folder where
    detection stopped (the nearest one with a lockfile or a `packageManager`
    field, else `folder`). `declared` is package.json's `packageManager` value.
    """

    name: ManagerName
    lockfiles: tuple[str, ...]
    source: Source
    folder: Path
    root: Path
    declared: str | None = None


def detect_package_manager(folder: Path) -> PackageManager:
    """Detect the package manager for `folder`, walking up to the repository or filesystem root."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        lockfiles = tuple(name for name in LOCKFILES if (candidate / name).is_file())
        declared = read_package_manager_field(candidate / "package.json")
        declared_name = _manager_of(declared)
        if lockfiles or declared_name:
            return _choose(folder, candidate, lockfiles, declared, declared_name)
        if (candidate / ".git").exists():
            break
    return PackageManager("npm", (), "default", folder, folder)


def read_package_manager_field(package_json: Path) -> str | None:
    """Return package.json's `packageManager` (such as `pnpm@9.12.0`), or None."""
    try:
        data = json.loads(package_json.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    value = data.get("packageManager") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def run_script_argv(
    pm: PackageManager, script: str, args: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """Return the argv that runs package.json script `script` with `args`."""
    if pm.name == "npm":
        return ["npm", "run", script, *(["--", *args] if args else [])]
    return [pm.name, "run", script, *args]


def exec_argv(
    pm: PackageManager, binary: str, args: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """Return the argv that runs the package binary `binary` installed for the project.

    The nearest `node_modules/.bin/BINARY` walking up from `pm.folder` wins.
    Otherwise the package manager runs it without downloading: `npx sst` would
    fetch whatever version the registry serves, which for a v3 project with no
    local install has been SST v2.
    """
    local = find_local_binary(pm.folder, binary)
    if local is not None:
        return [str(local), *args]
    if pm.name == "npm":
        return ["npm", "exec", "--no", "--", binary, *args]
    if pm.name == "pnpm":
        return ["pnpm", "exec", binary, *args]
    if pm.name == "yarn":
        return ["yarn", "run", binary, *args]
    return ["bun", "run", binary, *args]


def find_local_binary(folder: Path, binary: str) -> Path | None:
    """Return the nearest executable `node_modules/.bin/BINARY` at or above `folder`."""
    folder = folder.resolve()
    names = [binary, f"{binary}.cmd"] if os.name == "nt" else [binary]
    for candidate in (folder, *folder.parents):
        for name in names:
            path = candidate / "node_modules" / ".bin" / name
            if path.is_file() and os.access(path, os.X_OK):
                return path
    return None


def _choose(
    folder: Path, root: Path, lockfiles: tuple[str, ...], declared: str | None,
    declared_name: ManagerName | None,
) -> PackageManager:
    by_lockfile = {LOCKFILES[name] for name in lockfiles}
    if len(by_lockfile) == 1:
        only = next(iter(by_lockfile))
        return PackageManager(only, lockfiles, "lockfile", folder, root, declared)
    if declared_name is not None:
        return PackageManager(declared_name, lockfiles, "packageManager", folder, root, declared)
    name = next(manager for manager in PREFERENCE if manager in by_lockfile)
    return PackageManager(name, lockfiles, "lockfile", folder, root, declared)


def _manager_of(declared: str | None) -> ManagerName | None:
    if not declared:
        return None
    name = declared.split("@", 1)[0].strip()
    for manager in PREFERENCE:
        if manager == name:
            return manager
    return None
