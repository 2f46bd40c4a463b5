"""Replace text found by an RE2 pattern in a project file.

The pattern is RE2, so it runs in linear time on any file. The replacement may
use `{field}` placeholders from the finding and `\\1` or `\\g<name>` for the
pattern's groups.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine.fixing import FixContext
from engine.model import Finding
from engine.paths import PathEscapeError, resolve_inside
from engine.patterns import PatternError, compile_pattern
from engine.plan import FileEdit, FixPlan
from engine.templates import render
from fixers.params import Param, check_relative_path

log = logging.getLogger(__name__)

# Files larger than this are left alone: a fix plan keeps the whole file twice
# in memory and shows it as a diff.
MAX_FILE_BYTES = 4 << 20

PARAMETERS: Mapping[str, Mapping[str, Param]] = {
    "plan": {
        "path": Param(
            "path", "file relative to the project root; may use {field} placeholders", required=True
        ),
        "pattern": Param("pattern", "RE2 pattern of the text to replace", required=True),
        "replacement": Param(
            "string",
            "new text; {field} placeholders and \\1 or \\g<name> group references",
            required=True,
        ),
        "count": Param(
            "integer", "how many matches to replace, first to last; 0 replaces all (default 1)"
        ),
        "description": Param("string", "one-line description of the change"),
    },
}


def plan(finding: Finding, context: FixContext, params: Mapping[str, Any]) -> FixPlan | None:
    """Plan replacing the first `count` matches of `pattern` in `path` by `replacement`."""
    aliases = finding.rule.aliases
    relative = render(str(params.get("path", "")), finding.match, aliases)
    problem = check_relative_path(relative) if relative else "no path given"
    if problem is not None:
        log.warning("rule %s: no text replacement planned: %s", finding.rule.id, problem)
        return None
    try:
        path = resolve_inside(context.root, relative)
        pattern = compile_pattern(render(str(params.get("pattern", "")), finding.match, aliases))
    except (PathEscapeError, PatternError) as error:
        log.warning("rule %s: no text replacement planned: %s", finding.rule.id, error)
        return None

    try:
        raw = _read_bounded(path)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as error:
        log.warning(
            "rule %s: no text replacement planned for %s: %s", finding.rule.id, relative, error
        )
        return None

    replacement = render(str(params.get("replacement", "")), finding.match, aliases)
    count = int(params.get("count", 1))
    edited, replaced = pattern.subn(replacement, text, count=count)
    if replaced == 0 or edited == text:
        return None
    description = render(
        str(
            params.get("description", f"replace {replaced} match(es) of the pattern in {relative}")
        ),
        finding.match,
        aliases,
    )
    return FixPlan(
        rule_id=finding.rule.id,
        fixer="replace-text",
        safety="safe",
        description=description,
        edits=(FileEdit(relative, raw, edited.encode("utf-8")),),
    )


def _read_bounded(path: Any) -> bytes:
    with path.open("rb") as handle:
        raw: bytes = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"file is over {MAX_FILE_BYTES} bytes")
    return raw
