"""RE2 patterns for rules: linear time whatever a contributor writes."""

from __future__ import annotations

import functools
import re as stdlib_re
from typing import Any

import re2


class PatternError(ValueError):
    """A rule pattern that RE2 rejects or that needs a feature RE2 lacks."""


_LOOKAROUND = stdlib_re.compile(r"\(\?<?[=!]")
_BACKREFERENCE = stdlib_re.compile(r"(?<!\\)(?:\\\\)*\\([1-9]|k<|g<|g\{|\(\?P=)")


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False
    # 8 MiB per pattern: enough for any realistic log pattern, and a bounded
    # cost for a pathological one (RE2 falls back to slower matching, never to
    # exponential time).
    options.max_mem = 8 << 20
    return options


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Any:
    """Compile `pattern` with RE2, explaining what RE2 does not support."""
    if _LOOKAROUND.search(pattern):
        raise PatternError(
            f"pattern {pattern!r} uses lookaround ((?=, (?!, (?<=, (?<!), which RE2 does "
            "not support because it cannot run in linear time; match the text directly "
            "or split the rule into two conditions"
        )
    if _BACKREFERENCE.search(pattern) or "(?P=" in pattern:
        raise PatternError(
            f"pattern {pattern!r} uses a backreference, which RE2 does not support "
            "because it cannot run in linear time; repeat the group's text instead"
        )
    try:
        return re2.compile(pattern, _options())
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"pattern {pattern!r} is not valid RE2 syntax: {reason}") from None
