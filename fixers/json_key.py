"""Set or delete a key in a project JSON file, keeping its formatting.

The edit splices bytes: only the value that changes (or the member that is
added or removed) is rewritten, so indentation, key order, the other values'
spelling and the trailing newline stay as they were. JSON with comments
(such as some tsconfig.json files) is not parsed and gets no plan.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import PathEscapeError, resolve_inside
from engine.plan import FileEdit, FixPlan
from engine.templates import render
from fixers.params import Param, check_relative_path

log = logging.getLogger(__name__)

PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan_set": {
        "path": Param(
            "path", "JSON file relative to the project root, such as `package.json`", required=True
        ),
        "key": Param(
            "key",
            "dotted key (`scripts.dev`) or list of keys; missing parent objects are created",
            required=True,
        ),
        "value": Param(
            "json", "the JSON value to store; strings may use {field} placeholders", required=True
        ),
    },
    "plan_delete": {
        "path": Param("path", "JSON file relative to the project root", required=True),
        "key": Param(
            "key", "dotted key (`compilerOptions.plugins`) or list of keys", required=True
        ),
    },
}

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int


@dataclass(frozen=True)
class _Object:
    start: int
    end: int
    members: tuple[_Member, ...]


def plan_set(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan `key = value` in the JSON file `path` (the file must already exist)."""
    loaded = _load(finding, context, params)
    if loaded is None:
        return None
    relative, text, keys = loaded
    value = _render_value(params.get("value"), finding)

    edited = set_key(text, keys, value)
    if edited is None or edited == text:
        return None
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="json-set-key",
        safety="safe",
        description=f"set `{'.'.join(keys)}` to {json.dumps(value)} in {relative}",
        edits=(FileEdit(relative, text.encode("utf-8"), edited.encode("utf-8")),),
    )


def plan_delete(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan removing `key` from the JSON file `path`; no plan when the key is absent."""
    loaded = _load(finding, context, params)
    if loaded is None:
        return None
    relative, text, keys = loaded

    edited = delete_key(text, keys)
    if edited is None:
        return None
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="json-delete-key",
        safety="safe",
        description=f"delete `{'.'.join(keys)}` from {relative}",
        edits=(FileEdit(relative, text.encode("utf-8"), edited.encode("utf-8")),),
    )


def set_key(text: str, keys: list[str], value: Any) -> str | None:
    """Return `text` with `keys` set to `value`, or None when a parent is not an object."""
    original = json.loads(text)
    indent_unit = _indent_unit(text)
    start = _skip_space(text, 0)
    if not text.startswith("{", start):
        return None
    current = _scan_object(text, start)
    for depth, key in enumerate(keys):
        member = next((m for m in current.members if m.key == key), None)
        rest = keys[depth + 1 :]
        if member is None:
            nested: Any = value
            for inner in reversed(rest):
                nested = {inner: nested}
            edited = _insert_member(text, current, key, nested, depth, indent_unit)
            break
        if not rest:
            rendered = _dumps(value, _line_indent(text, member.key_start), indent_unit)
            edited = text[: member.value_start] + rendered + text[member.value_end :]
            break
        if not text.startswith("{", member.value_start):
            return None
        current = _scan_object(text, member.value_start)

    expected = original
    _assign(expected, keys, value)
    return edited if json.loads(edited) == expected else None


def delete_key(text: str, keys: list[str]) -> str | None:
    """Return `text` without `keys`, or None when the key is not there."""
    original = json.loads(text)
    start = _skip_space(text, 0)
    if not text.startswith("{", start):
        return None
    current = _scan_object(text, start)
    for key in keys[:-1]:
        member = next((m for m in current.members if m.key == key), None)
        if member is None or not text.startswith("{", member.value_start):
            return None
        current = _scan_object(text, member.value_start)

    members = current.members
    index = next((i for i, m in enumerate(members) if m.key == keys[-1]), None)
    if index is None:
        return None
    if len(members) == 1:
        edited = text[: current.start + 1] + text[current.end - 1 :]
    elif index < len(members) - 1:
        edited = text[: members[index].key_start] + text[members[index + 1].key_start :]
    else:
        edited = text[: members[index - 1].value_end] + text[members[index].value_end :]

    expected = original
    _remove(expected, keys)
    return edited if json.loads(edited) == expected else None


def _load(
    finding: Finding,
    context: FixContext,
    params: Mapping[str, Any],
) -> tuple[str, str, list[str]] | None:
    relative = render(str(params.get("path", "")), finding.match, finding.rule.aliases)
    keys = _keys(params.get("key"), finding)
    problem = check_relative_path(relative)
    if problem is not None or not keys:
        log.warning("rule %s: no JSON fix planned: %s", finding.rule.id, problem or "empty key")
        return None
    try:
        path = resolve_inside(context.root, relative)
    except PathEscapeError as error:
        log.warning("rule %s: no JSON fix planned: %s", finding.rule.id, error)
        return None
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        log.warning("rule %s: no JSON fix planned for %s: %s", finding.rule.id, relative, error)
        return None
    return relative, text, keys


def _keys(raw: Any, finding: Finding) -> list[str]:
    if isinstance(raw, list):
        return [render(str(part), finding.match, finding.rule.aliases) for part in raw]
    text = render(str(raw or ""), finding.match, finding.rule.aliases)
    return [part for part in text.split(".") if part]


def _render_value(value: Any, finding: Finding) -> Any:
    if isinstance(value, str):
        return render(value, finding.match, finding.rule.aliases)
    if isinstance(value, list):
        return [_render_value(item, finding) for item in value]
    if isinstance(value, Mapping):
        return {key: _render_value(item, finding) for key, item in value.items()}
    return value


def _scan_object(text: str, start: int) -> _Object:
    """Return the members of the object starting at `start` with their offsets."""
    position = _skip_space(text, start + 1)
    members: list[_Member] = []
    if text.startswith("}", position):
        return _Object(start, position + 1, ())
    while True:
        key_start = position
        key, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, position)
        position = _skip_space(text, position + 1)  # the colon
        value_start = position
        _, value_end = _DECODER.raw_decode(text, position)
        members.append(_Member(str(key), key_start, value_start, value_end))
        position = _skip_space(text, value_end)
        if text.startswith("}", position):
            return _Object(start, position + 1, tuple(members))
        position = _skip_space(text, position + 1)  # the comma


def _insert_member(
    text: str,
    target: _Object,
    key: str,
    value: Any,
    depth: int,
    indent_unit: str,
) -> str:
    closing = target.end - 1
    if target.members:
        last = target.members[-1]
        indent = _line_indent(text, last.key_start)
        same_line = "\n" not in text[target.start : last.key_start]
        separator = ", " if same_line else ",\n" + indent
        member = json.dumps(key) + ": " + _dumps(value, indent, indent_unit)
        return text[: last.value_end] + separator + member + text[last.value_end :]

    outer = _line_indent(text, target.start) if depth else ""
    inner = outer + indent_unit
    member = json.dumps(key) + ": " + _dumps(value, inner, indent_unit)
    return text[: target.start + 1] + "\n" + inner + member + "\n" + outer + text[closing:]


def _dumps(value: Any, indent: str, indent_unit: str) -> str:
    """Serialize `value` as it would appear indented at `indent` in the file."""
    if not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    lines = json.dumps(value, indent=indent_unit, ensure_ascii=False).split("\n")
    return "\n".join([lines[0], *(indent + line for line in lines[1:])])


def _indent_unit(text: str) -> str:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return "  "


def _line_indent(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _assign(data: Any, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


def _remove(data: Any, keys: list[str]) -> None:
    for key in keys[:-1]:
        data = data[key]
    del data[keys[-1]]
