"""Stage names: what SST accepts safely, checked before anything runs.

A stage name ends up in AWS resource names, in the keys of SST's state and in
shell commands. So only lowercase letters, digits and hyphens are accepted,
and a leading hyphen is rejected because the name would read as an option.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path

from deploykit.errors import DeployKitError, UsageError

STAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def validate_stage_name(name: str, configured: Sequence[str]) -> None:
    """Raise `UsageError` unless `name` is a safe stage name listed in `configured`.

    An empty `configured` (no `.deploy-config.json`, or no `stages` in it)
    accepts any safe name. The message suggests the closest configured stage.
    """
    if not STAGE_NAME.fullmatch(name):
        raise UsageError(
            f"invalid stage name {name!r}: use lowercase letters, digits and hyphens, "
            f"not starting with a hyphen{_suggestion(name, configured)}"
        )
    if configured and name not in configured:
        listed = ", ".join(configured)
        closest = closest_stage(name, configured)
        hint = f"use {closest!r}, or add {name!r} there" if closest else f"add {name!r} there"
        raise UsageError(
            f"stage {name!r} is not in the stages of .deploy-config.json ({listed}); {hint}"
        )


def closest_stage(name: str, configured: Sequence[str]) -> str | None:
    """Return the configured stage most like `name`, or None when none is close."""
    if not configured:
        return None
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.strip().lower()).strip("-")
    for candidate in (cleaned, *re.split(r"-+", cleaned)):
        if candidate in configured:
            return candidate
    matches = difflib.get_close_matches(cleaned, list(configured), n=1, cutoff=0.5)
    if matches:
        return matches[0]
    if not cleaned:
        return None
    for stage in configured:
        if stage.startswith(cleaned) or cleaned.startswith(stage):
            return stage
    return None


def _suggestion(name: str, configured: Sequence[str]) -> str:
    closest = closest_stage(name, configured)
    return f"; did you mean {closest!r}?" if closest else ""


def check_stage_option(root: Path, stage: str | None) -> None:
    """Validate a `--stage` value against the project's configured stages.

    A `.deploy-config.json` that cannot be read is reported by its own rule,
    so here it only means "no configured stages".
    """
    if stage is None:
        return
    from deploykit.config import load_deploy_config

    try:
        config = load_deploy_config(root)
    except DeployKitError:
        config = None
    validate_stage_name(stage, config.stages if config is not None else [])
