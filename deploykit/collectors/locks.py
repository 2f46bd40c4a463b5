"""Deployment file locks: `.deployment-lock-STAGE` in the project root.

Facts:

- `lock.file` (one per readable lock): `stage`, `path`, `deployer`, `pid`,
  `host`, `command`, `created`, `expires` (ISO 8601 UTC), `age_seconds`,
  `expired`, `same_host`, `holder_alive` (None when the holder runs on another
  host), `stale` (expired, or the holder on this host is dead), `own` (held by
  this deploy-kit process).
- `lock.file_invalid` (one per unreadable lock): `stage`, `path`, `problem`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from deploykit.context import RunContext
from deploykit.layout import find_layout
from deploykit.locks import MalformedLockError, format_time, utc_now
from deploykit.locks.file_lock import LOCK_PREFIX, read_file_lock
from engine.facts import Fact, Source


def lock_files(root: Path) -> list[Path]:
    """Return the lock files in the project root and the SST folder (temporaries excluded)."""
    folders = dict.fromkeys([root, find_layout(root).sst_dir])
    found = []
    for folder in folders:
        for path in sorted(folder.glob(LOCK_PREFIX + "*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                found.append(path)
    return found


def collect(context: RunContext) -> Iterable[Fact]:
    now = utc_now()
    root = context.root.resolve()
    for path in lock_files(root):
        relative = path.relative_to(root).as_posix()
        stage = path.name[len(LOCK_PREFIX):]
        try:
            info = read_file_lock(path)
        except (MalformedLockError, OSError) as error:
            yield Fact(
                "lock.file_invalid",
                {"stage": stage, "path": relative, "problem": str(error)},
                Source(file=relative),
            )
            continue
        alive = info.holder_alive()
        yield Fact(
            "lock.file",
            {
                "stage": info.stage,
                "path": relative,
                "deployer": info.deployer,
                "pid": info.pid,
                "host": info.host,
                "command": info.command,
                "created": format_time(info.created_at),
                "expires": format_time(info.expires_at),
                "age_seconds": int((now - info.created_at).total_seconds()),
                "expired": info.expired(now),
                "same_host": info.same_host,
                "holder_alive": alive,
                "stale": info.expired(now) or alive is False,
                "own": info.same_host and info.pid == os.getpid(),
            },
            Source(file=relative),
        )
