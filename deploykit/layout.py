"""Find the parts of a project: sst.config.ts, package.json files, Next.js apps.

A project root may be a single app (sst.config.ts beside package.json) or a
monorepo where sst.config.ts and the Next.js app sit in sub-folders.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = frozenset(
    {
        "node_modules",
        ".git",
        ".sst",
        ".next",
        ".open-next",
        "dist",
        "build",
        ".turbo",
        ".deploy-kit",
    }
)
SST_CONFIG_NAMES = ("sst.config.ts", "sst.config.mts", "sst.config.js", "sst.config.mjs")
NEXT_CONFIG_NAMES = ("next.config.ts", "next.config.mjs", "next.config.js", "next.config.cjs")
MAX_DEPTH = 3


@dataclass(frozen=True)
class Layout:
    """Paths of a project's parts; every path is absolute."""

    root: Path
    sst_config: Path | None
    package_jsons: tuple[Path, ...]
    next_apps: tuple[Path, ...]

    @property
    def sst_dir(self) -> Path:
        """The folder SST runs in: the one with sst.config.ts, else the root."""
        return self.sst_config.parent if self.sst_config else self.root

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


@functools.lru_cache(maxsize=32)
def find_layout(root: Path) -> Layout:
    """Scan `root` (at most three folders deep, skipping build and dependency folders)."""
    root = root.resolve()
    sst_configs: list[Path] = []
    package_jsons: list[Path] = []
    next_apps: list[Path] = []
    for folder in _walk(root, 0):
        for name in SST_CONFIG_NAMES:
            if (folder / name).is_file():
                sst_configs.append(folder / name)
                break
        if (folder / "package.json").is_file():
            package_jsons.append(folder / "package.json")
        if any((folder / name).is_file() for name in NEXT_CONFIG_NAMES) or _depends_on_next(folder):
            next_apps.append(folder)
    sst_configs.sort(key=lambda p: (len(p.relative_to(root).parts), str(p)))
    return Layout(
        root, sst_configs[0] if sst_configs else None, tuple(package_jsons), tuple(next_apps)
    )


def _walk(folder: Path, depth: int) -> list[Path]:
    found = [folder]
    if depth >= MAX_DEPTH:
        return found
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return found
    for child in children:
        if child.name in SKIP_DIRS or child.name.startswith("."):
            continue
        found.extend(_walk(child, depth + 1))
    return found


def _depends_on_next(folder: Path) -> bool:
    package = folder / "package.json"
    if not package.is_file():
        return False
    try:
        text = package.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return '"next"' in text
