"""Locate the project root and build the run context from command-line options."""

from __future__ import annotations

from pathlib import Path

from deploykit.errors import InputError

CONFIG_NAMES = ("sst.config.ts", "sst.config.js", "sst.config.mjs")


def resolve_root(path: Path) -> Path:
    """Return the project root for `path`: the folder itself, which must exist."""
    root = path.expanduser()
    if not root.exists():
        raise InputError(
            f"project folder {str(path)!r} does not exist; "
            "pass the folder that contains sst.config.ts"
        )
    if not root.is_dir():
        raise InputError(
            f"{str(path)!r} is a file, not a folder; pass the folder that contains sst.config.ts"
        )
    return root.resolve()
