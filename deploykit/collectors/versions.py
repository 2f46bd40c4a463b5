"""Versions of Node.js, SST and Next.js, and whether Node.js satisfies Next.js.

`node.version` (source: `node --version`): `found` (bool), `version`
(such as `20.11.1`), `major`, `minor`, `patch`; `reason` when not found.

`sst.version` (one; source: the package.json declaring sst, else sst.config.ts):
`declared` (the range in package.json or None), `declared_in` (path),
`declared_section` (`dependencies` or `devDependencies`), `declared_major`
(lowest major the range allows, or None), `installed` (version in
`node_modules/sst/package.json`, searched upwards from sst.config.ts's folder),
`installed_path`, `installed_major`, `config_file` (sst.config.ts relative
path or None), `config_v3` (bool: the config calls `$config(`, the v3+ format).

`next.package` (one per Next.js app): `app` (folder), `version`, `source`
(`installed` from node_modules/next/package.json found walking up from the
app, else `declared` from the app's package.json), `canary` (bool), `path`,
`engines_node` (the `engines.node` range or None), `node_version` (the running
Node.js or None), `node_satisfies` (bool, or None when either side is unknown),
`node_suggestion` (the lowest even Node.js major in `NODE_LTS_MAJORS` whose
releases satisfy `engines_node`, as a string such as `"20"`, or None).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from deploykit.layout import Layout, find_layout
from engine.facts import Fact, Source

NODE_TIMEOUT_SECONDS = 5.0
VERSION = re.compile(
    r"^v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+\S*)?$"
)
# `$config(` is how an SST v3 (and v4) config starts; v2 exports `config()` and `stacks()`.
V3_CONFIG = re.compile(r"\$config\s*\(")

Version = tuple[int, int, int]
# Even (LTS) majors to suggest for .nvmrc. NOTE: a fixed list; add new LTS majors here.
NODE_LTS_MAJORS = (18, 20, 22, 24)


def collect(context: RunContext) -> Iterable[Fact]:
    layout = find_layout(context.root)
    node = node_version_fact(context.env)
    facts = [node, sst_version_fact(layout)]
    running = node.data.get("version") if node.data.get("found") else None
    facts.extend(next_package_facts(layout, running))
    return facts


def node_version_fact(env: Mapping[str, str]) -> Fact:
    source = Source(command="node --version")
    try:
        result = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, env=dict(env),
            timeout=NODE_TIMEOUT_SECONDS, check=False,
        )
    except FileNotFoundError:
        return Fact("node.version", {"found": False, "reason": "node is not on PATH"}, source)
    output = result.stdout.strip()
    parsed = parse_version(output)
    if result.returncode != 0 or parsed is None:
        printed = output or result.stderr.strip()
        reason = f"`node --version` exited {result.returncode} with {printed!r}"
        return Fact("node.version", {"found": False, "reason": reason}, source)
    major, minor, patch = parsed
    return Fact("node.version", {
        "found": True, "version": f"{major}.{minor}.{patch}",
        "major": major, "minor": minor, "patch": patch,
    }, source)


def sst_version_fact(layout: Layout) -> Fact:
    declared, declared_in, section = _declared_sst(layout)
    installed_path = _find_upwards(layout.sst_dir, Path("node_modules/sst/package.json"))
    installed = _package_version(installed_path) if installed_path else None
    config_file = layout.relative(layout.sst_config) if layout.sst_config else None
    config_v3 = _uses_v3_config(layout.sst_config) if layout.sst_config else False
    installed_version = parse_version(installed) if installed else None
    data = {
        "declared": declared,
        "declared_in": declared_in,
        "declared_section": section,
        "declared_major": lowest_major(declared) if declared else None,
        "installed": installed,
        "installed_path": layout.relative(installed_path) if installed_path else None,
        "installed_major": installed_version[0] if installed_version else None,
        "config_file": config_file,
        "config_v3": config_v3,
    }
    return Fact("sst.version", data, Source(file=declared_in or config_file))


def next_package_facts(layout: Layout, node_version: str | None) -> Iterator[Fact]:
    for app in layout.next_apps:
        app_name = layout.relative(app) or "."
        installed_path = _find_upwards(app, Path("node_modules/next/package.json"))
        manifest = _read_json(installed_path) if installed_path else None
        if manifest is not None and isinstance(manifest.get("version"), str):
            version: str | None = manifest["version"]
            source, path = "installed", installed_path
            engines = manifest.get("engines")
            engines_node = engines.get("node") if isinstance(engines, Mapping) else None
        else:
            app_manifest = _read_json(app / "package.json") or {}
            version = _dependency(app_manifest, "next")
            source, path = "declared", app / "package.json"
            engines_node = None
            if version is None:
                continue
        assert path is not None
        satisfies = None
        if isinstance(engines_node, str) and node_version:
            satisfies = satisfies_range(node_version, engines_node)
        suggestion = suggest_node_major(engines_node) if isinstance(engines_node, str) else None
        yield Fact("next.package", {
            "app": app_name,
            "version": version,
            "source": source,
            "canary": "canary" in (version or ""),
            "path": layout.relative(path),
            "engines_node": engines_node if isinstance(engines_node, str) else None,
            "node_version": node_version,
            "node_satisfies": satisfies,
            "node_suggestion": suggestion,
        }, Source(file=layout.relative(path), line=_engines_line(path)))


# -- semver ranges (the node-semver grammar that package.json `engines` use) --


def parse_version(text: str | None) -> Version | None:
    """Parse `v20.9.0` or `18.20.8` (a prerelease suffix is dropped); None when invalid."""
    if not text:
        return None
    found = VERSION.match(text.strip())
    if found is None or not all(part is None or part.isdigit() for part in found.group(1, 2, 3)):
        return None
    return (int(found.group(1)), int(found.group(2) or 0), int(found.group(3) or 0))


def satisfies_range(version: str, range_text: str) -> bool | None:
    """Check whether `version` satisfies the range; return None when it cannot be parsed.

    Supports `||`, space-separated comparator sets, `<`, `<=`, `>`, `>=`, `=`,
    `^`, `~`, x-ranges (`18.x`, `*`) and hyphen ranges (`18 - 20`), with
    optional spaces after an operator (`>= 20.0.0`).
    """
    parsed = parse_version(version)
    if parsed is None:
        return None
    try:
        return any(
            all(compare(parsed) for compare in _comparators(part))
            for part in range_text.split("||")
        )
    except ValueError:
        return None


def suggest_node_major(range_text: str) -> str | None:
    """Return the lowest LTS major whose later releases satisfy `range_text`, such as "20"."""
    for major in NODE_LTS_MAJORS:
        # A late release of the major stands for its current one: ">=20.9.0" holds for 20.99.0.
        if satisfies_range(f"{major}.99.0", range_text):
            return str(major)
    return None


def lowest_major(range_text: str) -> int | None:
    """Return the lowest major version a dependency range allows, or None (tags, URLs)."""
    found = re.search(r"(?<![\w.])v?(\d+)(?:\.[\dxX*]+){0,2}", range_text)
    if found is None or ":" in range_text or "/" in range_text:
        return None
    return int(found.group(1))


def _comparators(part: str) -> list[Any]:
    text = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", part.strip())
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, _ = _partial(hyphen.group(1))
        high, precision = _partial(hyphen.group(2))
        upper = _bump(high, precision) if precision < 3 else None
        checks = [_check(">=", low)]
        checks.append(_check("<", upper) if upper else _check("<=", high))
        return checks
    if not text or text in ("*", "x", "X"):
        return [lambda version: True]

    checks = []
    for token in text.split():
        found = re.fullmatch(r"(>=|<=|>|<|=|\^|~>?)?(.+)", token)
        if found is None:
            raise ValueError(token)
        operator, target = found.group(1) or "", found.group(2)
        if target in ("*", "x", "X"):
            continue
        checks.extend(_expand(operator, target))
    return checks


def _expand(operator: str, target: str) -> list[Any]:
    base, precision = _partial(target)
    if operator in ("", "="):
        if precision == 3:
            return [_check("=", base)]
        return [_check(">=", base), _check("<", _bump(base, precision))]
    if operator == "^":
        major, minor, patch = base
        if major > 0 or precision == 1:
            upper = (major + 1, 0, 0)
        elif minor > 0 or precision == 2:
            upper = (0, minor + 1, 0)
        else:
            upper = (0, 0, patch + 1)
        return [_check(">=", base), _check("<", upper)]
    if operator in ("~", "~>"):
        upper = _bump(base, min(precision, 2))
        return [_check(">=", base), _check("<", upper)]
    if operator == ">" and precision < 3:
        return [_check(">=", _bump(base, precision))]
    if operator == "<=" and precision < 3:
        return [_check("<", _bump(base, precision))]
    return [_check(operator, base)]


def _partial(text: str) -> tuple[Version, int]:
    """Parse `20`, `20.9`, `20.x`, `20.9.0`; return the version and how many parts were given."""
    found = VERSION.match(text)
    if found is None:
        raise ValueError(text)
    parts = [part for part in found.group(1, 2, 3) if part is not None and part.isdigit()]
    numbers = [int(part) for part in parts] + [0] * (3 - len(parts))
    return (numbers[0], numbers[1], numbers[2]), len(parts)


def _bump(version: Version, precision: int) -> Version:
    major, minor, _ = version
    if precision <= 1:
        return (major + 1, 0, 0)
    return (major, minor + 1, 0)


def _check(operator: str, bound: Version) -> Any:
    tests = {
        ">=": lambda version: version >= bound,
        "<=": lambda version: version <= bound,
        ">": lambda version: version > bound,
        "<": lambda version: version < bound,
        "=": lambda version: version == bound,
    }
    return tests[operator]


# -- files --


def _declared_sst(layout: Layout) -> tuple[str | None, str | None, str | None]:
    # The package.json beside sst.config.ts comes first, then the others (monorepo root).
    ordered = sorted(layout.package_jsons, key=lambda path: path.parent != layout.sst_dir)
    for path in ordered:
        manifest = _read_json(path)
        if manifest is None:
            continue
        for section in ("devDependencies", "dependencies"):
            deps = manifest.get(section)
            if isinstance(deps, Mapping) and isinstance(deps.get("sst"), str):
                return deps["sst"], layout.relative(path), section
    return None, None, None


def _uses_v3_config(path: Path) -> bool:
    try:
        return V3_CONFIG.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def _dependency(manifest: Mapping[str, Any], name: str) -> str | None:
    for section in ("dependencies", "devDependencies"):
        deps = manifest.get(section)
        if isinstance(deps, Mapping) and isinstance(deps.get(name), str):
            return str(deps[name])
    return None


def _find_upwards(start: Path, relative: Path) -> Path | None:
    """Find `relative` in `start` or a parent, as Node.js module resolution does.

    The search goes above the project root too, because a workspace root may
    hoist the install there.
    """
    for folder in (start, *start.parents):
        candidate = folder / relative
        if candidate.is_file():
            return candidate
        if folder == folder.parent:
            break
    return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _package_version(path: Path) -> str | None:
    manifest = _read_json(path)
    version = manifest.get("version") if manifest else None
    return version if isinstance(version, str) else None


def _engines_line(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, start=1):
        if '"engines"' in line:
            return number
    return None
