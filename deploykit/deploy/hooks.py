"""Lifecycle hooks from `.deploy-config.json`: preDeploy, postBuild, postDeploy, onError.

A hook is a shell command run with `/bin/sh -c` in the project root. Its
environment contains `DEPLOY_KIT_STAGE`; `onError` also gets
`DEPLOY_KIT_FAILED_PHASE` and `DEPLOY_KIT_LOG` (the log of the failed stage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HOOK_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Hook:
    """A configured hook command and the environment it runs with."""

    name: str
    command: str
    env: dict[str, str]

    @property
    def argv(self) -> list[str]:
        return ["/bin/sh", "-c", self.command]


def make_hook(
    hooks: Mapping[str, str], name: str, stage: str, base_env: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> Hook | None:
    """Return hook `name` ready to run for `stage`, or None when it is not configured."""
    command = hooks.get(name)
    if not command:
        return None
    env = dict(base_env)
    env["DEPLOY_KIT_STAGE"] = stage
    env.update(extra or {})
    return Hook(name, command, env)

