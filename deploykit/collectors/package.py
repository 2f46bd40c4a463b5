"""Facts from every package.json of the project (monorepos have several) and its lockfiles.

`package.manifest` (one per package.json that parses; source: the file):
`path` (relative to the project root), `folder`, `name`, `scripts`
(name to command), `dependencies`, `dev_dependencies` (name to version range),
`package_manager` (the `packageManager` field or None), `workspaces`
(list of globs; the `packages` list of the object form too), `next_app`
(bool: the folder is a Next.js app).

`package.script` (one per script; source: the line of the script):
`package` (the package's name, else its path), `path`, `name`, `command`,
`line`, `next_app` (as above).

`package.manager` (one per folder with lockfiles or a `packageManager` field,
the project root always; source: that folder): `folder`, `name` (npm, pnpm,
yarn or bun), `source` (lockfile, packageManager or default), `lockfiles`
(file names), `lockfile_count`, `managers` (the distinct managers the
lockfiles belong to), `declared` (the `packageManager` field or None).

`package.json_error` (one per package.json that does not parse; source: the
file and line): `path`, `message`, `line`, `column`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from deploykit.jsonspans import JsonSpanError, json_spans
from deploykit.layout import Layout, find_layout
from deploykit.packagemanager import LOCKFILES, detect_package_manager, read_package_manager_field
from engine.facts import Fact, Source


def collect(context: RunContext) -> Iterable[Fact]:
    layout = find_layout(context.root)
    facts: list[Fact] = []
    for package_json in layout.package_jsons:
        facts.extend(package_facts(layout, package_json))
    facts.extend(manager_facts(layout))
    return facts


def package_facts(layout: Layout, package_json: Path) -> Iterator[Fact]:
    """Yield the manifest and script facts of one package.json, or its parse error."""
    relative = layout.relative(package_json)
    try:
        text = package_json.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        yield _error(relative, f"cannot read the file: {error}", 1, 1)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield _error(relative, f"invalid JSON: {error.msg}", error.lineno, error.colno)
        return
    if not isinstance(data, dict):
        yield _error(relative, "the file must contain a JSON object", 1, 1)
        return

    try:
        spans = json_spans(text)
    except JsonSpanError:
        spans = {}
    name = data.get("name") if isinstance(data.get("name"), str) else None
    next_app = package_json.parent in layout.next_apps
    declared_manager = data.get("packageManager")
    scripts = _string_map(data.get("scripts"))

    yield Fact("package.manifest", {
        "path": relative,
        "folder": layout.relative(package_json.parent) or ".",
        "name": name,
        "scripts": scripts,
        "dependencies": _string_map(data.get("dependencies")),
        "dev_dependencies": _string_map(data.get("devDependencies")),
        "package_manager": declared_manager if isinstance(declared_manager, str) else None,
        "workspaces": _workspaces(data.get("workspaces")),
        "next_app": next_app,
    }, Source(file=relative))

    for script, command in scripts.items():
        span = spans.get(("scripts", script))
        line = span.line if span else None
        yield Fact("package.script", {
            "package": name or relative,
            "path": relative,
            "name": script,
            "command": command,
            "line": line,
            "next_app": next_app,
        }, Source(file=relative, line=line))


def manager_facts(layout: Layout) -> Iterator[Fact]:
    """Yield a `package.manager` fact for the root and each folder with its own lockfiles."""
    folders = [layout.root] + [
        path.parent for path in layout.package_jsons
        if path.parent != layout.root and _has_own_manager(path.parent)
    ]
    for folder in folders:
        manager = detect_package_manager(folder)
        # Lockfiles found above the project root belong to an enclosing project.
        if manager.root != folder and folder != layout.root:
            continue
        relative = layout.relative(manager.root) or "."
        managers = sorted({LOCKFILES[name] for name in manager.lockfiles})
        yield Fact("package.manager", {
            "folder": relative,
            "name": manager.name,
            "source": manager.source,
            "lockfiles": list(manager.lockfiles),
            "lockfile_count": len(manager.lockfiles),
            "managers": managers,
            "declared": manager.declared,
        }, Source(file=_evidence_file(relative, manager.lockfiles)))


def _evidence_file(folder: str, lockfiles: tuple[str, ...]) -> str:
    name = lockfiles[0] if lockfiles else "package.json"
    return name if folder == "." else f"{folder}/{name}"


def _has_own_manager(folder: Path) -> bool:
    if any((folder / name).is_file() for name in LOCKFILES):
        return True
    return read_package_manager_field(folder / "package.json") is not None


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, str)}


def _workspaces(value: Any) -> list[str]:
    # npm and yarn accept a list; yarn 1 also `{"packages": [...], "nohoist": [...]}`.
    if isinstance(value, Mapping):
        value = value.get("packages")
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _error(path: str, message: str, line: int, column: int) -> Fact:
    return Fact(
        "package.json_error",
        {"path": path, "message": message, "line": line, "column": column},
        Source(file=path, line=line),
    )
