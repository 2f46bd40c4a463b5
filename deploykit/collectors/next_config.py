"""Facts read from each Next.js app's next.config.{ts,mjs,js,cjs}, through tree-sitter.

`app` is the app's folder relative to the project root (`.` for the root), the
same key the `next.package` fact uses, so rules can join the two.

- `next.config` {app, path, config_found, experimental_keys}: the config file;
  `config_found` is false when no config object could be located (for example
  a config built by a function deploy-kit does not run).
- `next.syntax_error` {app, path, line, column, message}: tree-sitter could not
  parse the file.
- `next.experimental` {app, path, key, value, line, canary_only}: each key of
  `experimental`; `value` is the literal (string, number, boolean) or the
  source text; `canary_only` says whether a stable Next.js release rejects it
  (see `CANARY_ONLY_FEATURES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploykit.context import RunContext
from deploykit.layout import NEXT_CONFIG_NAMES, find_layout
from engine.facts import Fact, Source

if TYPE_CHECKING:
    from tree_sitter import Node

# Experimental keys that stable Next.js releases reject with CanaryOnlyError
# ("can only be enabled when using the latest canary version"), from
# `assignDefaults` in packages/next/src/server/config.ts. `typedRoutes` and
# `reactCompiler` are accepted by stable releases and are not listed.
# NOTE: ppr, cacheComponents and turbopackPersistentCaching were read in that
# source; the release range given for dynamicIO was not checked line by line.
CANARY_ONLY_FEATURES: dict[str, str] = {
    "ppr": "Next.js 15.0 and later stable releases",
    "dynamicIO": "Next.js 15.0 to 15.3 stable releases (renamed cacheComponents in 15.4)",
    "cacheComponents": "Next.js 15.4 and later stable releases",
    "turbopackPersistentCaching": "Next.js 15.5 and later stable releases",
}


def collect(context: RunContext) -> Iterable[Fact]:
    layout = find_layout(context.root)
    facts: list[Fact] = []
    for folder in layout.next_apps:
        config_file = next((folder / n for n in NEXT_CONFIG_NAMES if (folder / n).is_file()), None)
        if config_file is None:
            continue
        facts.extend(_facts(layout.relative(folder), layout.relative(config_file), config_file))
    return facts


def _facts(app: str, relative: str, path: Path) -> Iterator[Fact]:
    from deploykit import tsparse

    source = path.read_bytes()
    tree = tsparse.parse_typescript(source)
    problem = tsparse.first_syntax_problem(tree)
    if problem is not None:
        yield Fact("next.syntax_error", {
            "app": app, "path": relative, "line": problem.line, "column": problem.column,
            "message": problem.message,
        }, Source(file=relative, line=problem.line))

    config = find_config_object(tree.root_node)
    experimental = tsparse.get_member(config, "experimental")
    members = tsparse.object_members(experimental)
    yield Fact("next.config", {
        "app": app, "path": relative, "config_found": config is not None,
        "experimental_keys": [name for name, _ in members],
    }, Source(file=relative, line=tsparse.line(config) if config is not None else 1))

    for name, member in members:
        line = tsparse.line(member)
        yield Fact("next.experimental", {
            "app": app, "path": relative, "key": name,
            "value": _value(tsparse.member_value(member)), "line": line,
            "canary_only": name in CANARY_ONLY_FEATURES,
        }, Source(file=relative, line=line))


def find_config_object(root: Node) -> Node | None:
    """Return the object literal next.config exports (`export default`, `module.exports`).

    Follows one identifier to its `const` declaration and looks inside wrapper
    calls such as `withBundleAnalyzer(nextConfig)`.
    """
    from deploykit import tsparse

    declarations: dict[str, Node] = {}
    exported: Node | None = None
    for node in tsparse.walk(root):
        if node.type == "variable_declarator":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name is not None and value is not None:
                declarations[tsparse.text(name)] = value
        elif node.type == "export_statement" and exported is None:
            exported = node.child_by_field_name("value")
        elif node.type == "assignment_expression" and exported is None:
            left = node.child_by_field_name("left")
            if left is not None and tsparse.text(left) == "module.exports":
                exported = node.child_by_field_name("right")
    return _resolve_object(exported, declarations, depth=0)


def _resolve_object(node: Node | None, declarations: dict[str, Node], depth: int) -> Node | None:
    from deploykit import tsparse

    if node is None or depth > 5:
        return None
    node = tsparse.unwrap(node)
    if node.type == "object":
        return node
    if node.type == "identifier":
        return _resolve_object(declarations.get(tsparse.text(node)), declarations, depth + 1)
    if node.type == "call_expression":
        arguments = node.child_by_field_name("arguments")
        for argument in arguments.named_children if arguments is not None else []:
            found = _resolve_object(argument, declarations, depth + 1)
            if found is not None:
                return found
    if node.type == "arrow_function":
        body = node.child_by_field_name("body")
        return _resolve_object(body, declarations, depth + 1)
    return None


def _value(node: Node | None) -> Any:
    from deploykit import tsparse

    if node is None:
        return None
    literal = tsparse.string_value(node)
    if literal is not None:
        return literal
    if node.type in ("true", "false"):
        return node.type == "true"
    if node.type == "number":
        try:
            number = float(tsparse.text(node))
        except ValueError:
            return tsparse.text(node)
        return int(number) if number.is_integer() else number
    return tsparse.text(node)
