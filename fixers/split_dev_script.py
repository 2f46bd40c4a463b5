"""Stop a recursive `sst dev`: the app's `dev` script runs the framework, `sst:dev` runs SST.

`sst dev` starts each frontend by running its package's `dev` script, so a
`dev` script that is itself `sst dev` starts SST again inside SST. The fix
sets `dev` to the framework's own dev command and keeps the old command as
`"sst:dev"`. Only the bytes of that one value change and one member is
inserted after it, with the same indentation, so key order, formatting and
the trailing newline of package.json stay as they were.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deploykit.jsonspans import JsonSpanError, Span, json_spans
from engine.facts import Fact
from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import resolve_inside
from engine.plan import FileEdit, FixPlan

SST_DEV_SCRIPT = "sst:dev"
# The dev command of each framework SST deploys, by the package that identifies it.
FRAMEWORK_DEV_COMMANDS: tuple[tuple[str, str], ...] = (
    ("next", "next dev"),
    ("astro", "astro dev"),
    ("nuxt", "nuxt dev"),
    ("@sveltejs/kit", "vite dev"),
    ("@remix-run/dev", "remix vite:dev"),
    ("@solidjs/start", "vinxi dev"),
    ("vite", "vite"),
)


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan the package.json edit for the `package.script` fact of the finding."""
    script = _script_fact(finding)
    if script is None:
        return None
    relative = str(script.get("path"))
    script_name = str(script.get("name"))
    path = resolve_inside(context.root, relative)
    try:
        before = path.read_bytes()
    except OSError:
        return None

    after = split_dev_script(before, script_name)
    if after is None:
        return None
    command = _framework_command(json.loads(before.decode("utf-8-sig")))
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="split-dev-script",
        safety="safe",
        description=(
            f'set "{script_name}": "{command}" in {relative} and keep the old command as '
            f'"{SST_DEV_SCRIPT}"'
        ),
        edits=(FileEdit(relative, before, after),),
    )


def split_dev_script(content: bytes, script_name: str = "dev") -> bytes | None:
    """Return package.json `content` with the script split, or None when it cannot be.

    None when the file is not a JSON object with that script, no known
    framework is among the dependencies, or `sst:dev` already exists with a
    different command.
    """
    try:
        text = content.decode("utf-8")
        data = json.loads(text.removeprefix("\ufeff"))
        spans = json_spans(text)
    except (UnicodeDecodeError, ValueError, JsonSpanError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("scripts"), dict):
        return None
    scripts = data["scripts"]
    old_command = scripts.get(script_name)
    command = _framework_command(data)
    if not isinstance(old_command, str) or command is None or old_command == command:
        return None

    value_span = spans[("scripts", script_name)]
    new_value = json.dumps(command)
    existing = scripts.get(SST_DEV_SCRIPT)
    if existing is not None and existing != old_command:
        return None
    if existing is not None:
        edited = text[:value_span.value_start] + new_value + text[value_span.value_end:]
        return edited.encode("utf-8")

    # The kept command reuses the original JSON literal, so its escapes are unchanged.
    old_literal = text[value_span.value_start:value_span.value_end]
    member = f"{json.dumps(SST_DEV_SCRIPT)}: {old_literal}"
    separator = "," + _line_break_and_indent(text, value_span)
    edited = (
        text[:value_span.value_start] + new_value + separator + member
        + text[value_span.value_end:]
    )
    return edited.encode("utf-8")


def _line_break_and_indent(text: str, span: Span) -> str:
    """Return the text between the previous member and this one's key: a newline and indent."""
    line_start = text.rfind("\n", 0, span.key_start) + 1
    between = text[line_start:span.key_start]
    if between.strip():
        # The member shares its line with another one: keep the new member on that line too.
        return " "
    newline = "\r\n" if text[max(line_start - 2, 0):line_start] == "\r\n" else "\n"
    return newline + between


def _framework_command(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    dependencies: dict[str, Any] = {}
    for section in ("devDependencies", "dependencies"):
        if isinstance(data.get(section), dict):
            dependencies.update(data[section])
    for package, command in FRAMEWORK_DEV_COMMANDS:
        if package in dependencies:
            return command
    return None


def _script_fact(finding: Finding) -> Fact | None:
    facts = [finding.fact, *finding.match.joined]
    for fact in facts:
        if fact is not None and fact.kind == "package.script":
            return fact
    return None
