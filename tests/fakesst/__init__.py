"""Put the replaying `sst` first on PATH and read what it recorded.

`tests/fakesst/sst` prints a transcript from `fixtures/sst/` and exits with
its exit code; see that script's docstring for the transcript format.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FAKE_SST_DIR = Path(__file__).resolve().parent
FAKE_SST = FAKE_SST_DIR / "sst"


def install_fake_sst(project: Path) -> Path:
    """Link the fake as `node_modules/.bin/sst` in `project`, as a package install would."""
    binary = project / "node_modules" / ".bin" / "sst"
    binary.parent.mkdir(parents=True, exist_ok=True)
    if binary.exists() or binary.is_symlink():
        binary.unlink()
    binary.symlink_to(FAKE_SST)
    return binary


def fake_sst_env(record: Path, transcript: str = "deploy-success", **extra: str) -> dict[str, str]:
    """Environment for a CLI run: the fake first on PATH, replaying `transcript`."""
    return {
        "PATH": f"{FAKE_SST_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_SST_TRANSCRIPT": transcript,
        "FAKE_SST_RECORD": str(record),
        **extra,
    }


def read_records(record: Path, event: str | None = None) -> list[dict[str, Any]]:
    """Return the fake's records, optionally only those of one event (`run` or `signal`)."""
    if not record.exists():
        return []
    entries = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line]
    return [entry for entry in entries if event is None or entry["event"] == event]
