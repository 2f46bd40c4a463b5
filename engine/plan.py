"""Fix plans: file edits and commands, shown as a diff and applied by the fix loop."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.model import Safety


@dataclass(frozen=True)
class FileEdit:
    """A replacement of a project file's bytes (`after is None` deletes it).

    `path` is relative to the project root. `before` is the content the plan was
    made against, so applying it to a file that changed since is rejected.
    """

    path: str
    before: bytes | None
    after: bytes | None

    def diff(self) -> str:
        old = _text_lines(self.before)
        new = _text_lines(self.after)
        from_name = f"a/{self.path}" if self.before is not None else "/dev/null"
        to_name = f"b/{self.path}" if self.after is not None else "/dev/null"
        return "".join(difflib.unified_diff(old, new, from_name, to_name))


@dataclass(frozen=True)
class CommandStep:
    """A command to run from the project root (argv, never a shell string)."""

    argv: tuple[str, ...]
    description: str = ""
    cwd: str = "."
    env: Mapping[str, str] = field(default_factory=dict)

    def display(self) -> str:
        import shlex

        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        command = shlex.join(self.argv)
        return f"{prefix} {command}".strip()


@dataclass(frozen=True)
class FixPlan:
    """The fix a fixer proposes for one finding.

    A plan is file edits and/or commands. `steps` are instructions for a person
    (for manual plans). `env` contains settings for the next SST run (such as
    PULUMI_IGNORE_AMBIENT_PLUGINS=true), which the fix loop stores for the SST
    runner instead of exporting them to the shell.
    """

    rule_id: str
    fixer: str
    safety: Safety
    description: str
    edits: tuple[FileEdit, ...] = ()
    commands: tuple[CommandStep, ...] = ()
    steps: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def diff(self) -> str:
        return "".join(edit.diff() for edit in self.edits)

    @property
    def applicable(self) -> bool:
        return bool(self.edits or self.commands or self.env)


def _text_lines(content: bytes | None) -> list[str]:
    if content is None:
        return []
    text = content.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
