"""The settings of one run, shared by collectors, fixers and commands."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunContext:
    """One invocation: which project, stage, profile and scope, and what to skip.

    `root` is the project root: the folder with `sst.config.ts`, or the folder
    given on the command line. `env` is the process environment as the run
    sees it (tests pass their own). `log_path` is the log that `triage` reads,
    or that a failed deploy or dev run produced.
    """

    root: Path
    scope: str = "doctor"
    stage: str | None = None
    profile: str | None = None
    region: str | None = None
    offline: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    log_path: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ci(self) -> bool:
        value = self.env.get("CI", "")
        return value.lower() not in ("", "0", "false", "no")
