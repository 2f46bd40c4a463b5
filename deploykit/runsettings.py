"""Environment settings for the next SST run, stored in `.deploy-kit/run-env.json`.

A safe fix such as "set PULUMI_IGNORE_AMBIENT_PLUGINS=true for the SST process"
changes no project file. It is stored here per stage (`*` for every stage),
and the SST runner adds it to the environment of `sst deploy` and `sst dev`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from deploykit.errors import InputError

RUN_ENV_FILE = Path(".deploy-kit") / "run-env.json"
ALL_STAGES = "*"


def load_all(root: Path) -> dict[str, dict[str, str]]:
    path = root / RUN_ENV_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            f"{RUN_ENV_FILE} is not valid JSON ({error}); "
            "delete it to clear the stored SST settings"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) for v in data.values()
    ):
        raise InputError(
            f"{RUN_ENV_FILE} must map stage names to objects of strings; delete it to reset"
        )
    return data


def load_run_env(root: Path, stage: str | None) -> dict[str, str]:
    """Return the settings for `stage`: those for every stage, then the stage's own."""
    data = load_all(root)
    merged = dict(data.get(ALL_STAGES, {}))
    if stage:
        merged.update(data.get(stage, {}))
    return merged


def save_run_env(root: Path, stage: str | None, settings: dict[str, str]) -> Path:
    """Merge `settings` into the stored ones for `stage` (or every stage) atomically."""
    data = load_all(root)
    key = stage or ALL_STAGES
    data.setdefault(key, {}).update(settings)
    path = root / RUN_ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".run-env.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)
    return path
