"""Message templates: `{field}` reads the primary fact, `{alias.field}` a joined one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine.facts import MISSING, lookup
from engine.model import Match

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}")


def render(
    template: str,
    match: Match,
    aliases: Iterable[str] = (),
    captures: Mapping[str, str] | None = None,
) -> str:
    """Fill `{path}` placeholders; unknown paths stay as written.

    `{capture.NAME}` is the named group NAME of a `regex` condition that matched.
    """
    joined = dict(zip(aliases, match.joined, strict=False))

    def replace(found: re.Match[str]) -> str:
        path = found.group(1)
        head, _, rest = path.partition(".")
        value: Any = MISSING
        if head == "capture" and rest and captures is not None and rest in captures:
            value = captures[rest]
        elif head in joined and rest:
            value = joined[head].get(rest)
        elif match.primary is not None:
            value = match.primary.get(path)
        if value is MISSING:
            return found.group(0)
        return _text(value)

    return PLACEHOLDER.sub(replace, template)


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


__all__ = ["render", "placeholders", "lookup"]


def regex_captures(where: Any, match: Match) -> dict[str, str]:
    """Return the named groups of every `regex` leaf in `where` that matches the primary fact."""
    from engine.patterns import compile_pattern

    captures: dict[str, str] = {}
    if match.primary is None:
        return captures
    stack = [where]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("op") == "regex" and isinstance(node.get("value"), str):
                actual = match.primary.get(str(node.get("field", "")))
                if isinstance(actual, str):
                    found = compile_pattern(node["value"]).search(actual)
                    if found is not None:
                        for name, value in found.groupdict().items():
                            if value is not None:
                                captures.setdefault(name, value)
            for key in ("all", "any"):
                if isinstance(node.get(key), list):
                    stack.extend(node[key])
    return captures
