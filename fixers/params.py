"""Declared parameters of fixers, checked when a rule file loads.

A fixer module may define `PARAMETERS`, a mapping from the fixer function's
name to its parameters. `deploy-kit rules fixers` prints them, and a rule whose
`fix.params` has an unknown key, lacks a required one, has the wrong type, a
path leaving the project or an invalid RE2 pattern is rejected at load time.
Values containing `{...}` placeholders are filled from the finding when the
fix is planned, so their path and pattern checks happen then instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

ParamType = Literal["string", "path", "pattern", "key", "json", "argv", "integer"]


@dataclass(frozen=True)
class Param:
    """One fixer parameter: its type, whether a rule must give it, and what it sets."""

    type: ParamType
    description: str
    required: bool = False


def declared_params(target: str) -> Mapping[str, Param] | None:
    """Return the parameters declared for a fixer target `module:function`, if any."""
    module_name, _, function = target.partition(":")
    module = importlib.import_module(module_name)
    table = getattr(module, "PARAMETERS", None)
    if not isinstance(table, Mapping):
        return None
    declared = table.get(function)
    return declared if isinstance(declared, Mapping) else None


def validate_params(
    declared: Mapping[str, Param], params: Mapping[str, Any]
) -> tuple[str, str] | None:
    """Return (key, problem) for the first invalid parameter, or None when all are valid."""
    for key in params:
        if key not in declared:
            expected = ", ".join(declared) or "no parameters"
            return key, f"unknown parameter; expected {expected}"
    for key, param in declared.items():
        if key not in params:
            if param.required:
                return key, f"missing; this fixer needs `{key}` ({param.description})"
            continue
        problem = _check_value(param, params[key])
        if problem is not None:
            return key, problem
    return None


def _check_value(param: Param, value: Any) -> str | None:
    if param.type == "json":
        return None
    if param.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"must be a whole number of 0 or more, got {value!r}"
        return None
    if param.type == "argv":
        return _check_argv(value)
    if param.type == "key":
        if (
            isinstance(value, list)
            and value
            and all(isinstance(part, str) and part for part in value)
        ):
            return None
        if isinstance(value, str) and value.strip("."):
            return None
        return f"must be a dotted key such as `scripts.dev` or a list of keys, got {value!r}"
    if not isinstance(value, str) or not value:
        return f"must be a non-empty string, got {value!r}"
    if "{" in value:
        return None
    if param.type == "path":
        return check_relative_path(value)
    if param.type == "pattern":
        from engine.patterns import PatternError, compile_pattern

        try:
            compile_pattern(value)
        except PatternError as error:
            return str(error)
    return None


def _check_argv(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return None
    return f"must be a command string or a list of arguments, got {value!r}"


def check_relative_path(value: str) -> str | None:
    """Return why `value` cannot be a project-relative path, or None when it can."""
    if "\x00" in value:
        return "path contains a NUL character"
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or (len(value) > 1 and value[1] == ":"):
        return f"path {value!r} is absolute; give a path relative to the project root"
    if ".." in path.parts:
        return f"path {value!r} goes up with `..`; fixers only touch files inside the project"
    if any(part.lower() == ".git" for part in path.parts):
        return f"path {value!r} is inside .git/, which fixers never change"
    return None
