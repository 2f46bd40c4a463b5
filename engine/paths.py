"""Keep every file a fixer touches inside the project root."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathEscapeError(ValueError):
    """A path that leaves the project root or enters a protected folder."""


PROTECTED_PARTS = frozenset({".git"})


def resolve_inside(root: Path, relative: str) -> Path:
    """Return `root / relative` resolved, refusing anything outside `root`.

    Symlinks are resolved before the check, so a link inside the project that
    points elsewhere is refused too. Paths inside `.git/` are refused because
    a fixer must never rewrite repository internals.
    """
    root = root.resolve()
    candidate = PurePosixPath(relative.replace("\\", "/"))
    if candidate.is_absolute():
        raise PathEscapeError(
            f"path {relative!r} is absolute; fixers take paths relative to the project root"
        )
    if any(part in PROTECTED_PARTS for part in candidate.parts):
        raise PathEscapeError(f"path {relative!r} is inside .git/, which fixers never change")
    resolved = (root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise PathEscapeError(
            f"path {relative!r} resolves to {resolved}, outside the project root {root}"
        )
    if any(part in PROTECTED_PARTS for part in resolved.relative_to(root).parts):
        raise PathEscapeError(f"path {relative!r} resolves into .git/, which fixers never change")
    return resolved
