"""The file lock `.deployment-lock-STAGE`: one deploy per stage on this machine.

The lock file is created atomically with its whole content: the JSON record
is written to a temporary file that is then hard-linked to the lock name, and
`link` fails when the name exists. So a reader never sees a half-written
lock, and of many processes racing for a free stage exactly one wins.

A stale lock (expired, or held by a dead process on this host) is taken over.
A lock file is removed (when stale, or on release) under an advisory `flock` on
the project folder. The remover first checks that the file still has the bytes
it judged, so it never removes a lock that another process created meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType

from deploykit.locks import (
    REMEDY,
    LockHeldError,
    LockInfo,
    MalformedLockError,
    check_stage_name,
    new_lock_info,
    parse_lock_record,
)

log = logging.getLogger(__name__)

LOCK_PREFIX = ".deployment-lock-"
MAX_ATTEMPTS = 5


def lock_path(root: Path, stage: str) -> Path:
    check_stage_name(stage)
    return root / f"{LOCK_PREFIX}{stage}"


class FileLock:
    """A held file lock; release it with `release()` or by leaving a `with` block."""

    def __init__(self, path: Path, info: LockInfo, content: bytes) -> None:
        self.path = path
        self.info = info
        self._content = content
        self._released = False

    def release(self) -> None:
        """Delete the lock file if it is still this lock's; calling it twice is harmless."""
        if self._released:
            return
        self._released = True
        with _folder_guard(self.path.parent):
            try:
                current = self.path.read_bytes()
            except FileNotFoundError:
                log.warning("lock %s was already removed by another process", self.path)
                return
            if current != self._content:
                log.warning("lock %s now belongs to another deploy; leaving it", self.path)
                return
            self.path.unlink()

    def __enter__(self) -> FileLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def acquire_file_lock(
    root: Path, stage: str, command: str, *, now: datetime | None = None,
) -> FileLock:
    """Create `.deployment-lock-STAGE` in `root` for this process.

    Raises `LockHeldError` (with the holder) when a live lock exists, and
    `MalformedLockError` when the existing lock file cannot be read as a lock.
    """
    path = lock_path(root, stage)
    info = new_lock_info(stage, command, now)
    content = (json.dumps(info.to_json(), indent=2) + "\n").encode("utf-8")

    holder: LockInfo | None = None
    for _ in range(MAX_ATTEMPTS):
        if _create_exclusive(path, content):
            log.info("acquired lock %s", path)
            return FileLock(path, info, content)

        try:
            existing = path.read_bytes()
        except FileNotFoundError:
            continue  # released between our attempt and the read
        holder = parse_lock_bytes(existing, path.name)
        if not holder.stale(now):
            raise LockHeldError(holder, path.name)

        log.info("taking over stale lock %s held by %s", path, holder.describe())
        _remove_if_unchanged(path, existing)

    assert holder is not None  # every failed attempt read a holder or retried
    raise LockHeldError(holder, path.name)


def read_file_lock(path: Path) -> LockInfo:
    """Read a lock file; raises `MalformedLockError` naming the file when it is not a lock."""
    return parse_lock_bytes(path.read_bytes(), path.name)


def parse_lock_bytes(content: bytes, where: str) -> LockInfo:
    try:
        data = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedLockError(f"{where} is not UTF-8 text; {REMEDY}") from None
    except json.JSONDecodeError as error:
        raise MalformedLockError(
            f"{where}:{error.lineno}:{error.colno}: invalid JSON ({error.msg}); {REMEDY}"
        ) from None
    return parse_lock_record(data, where)


def _create_exclusive(path: Path, content: bytes) -> bool:
    """Create `path` with `content` unless it exists; return whether this call created it."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:
            # NOTE: file systems without hard links fall back to O_EXCL on the
            # lock name itself; a reader may then briefly see an empty file.
            return _create_exclusive_direct(path, content)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _create_exclusive_direct(path: Path, content: bytes) -> bool:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return True


def _remove_if_unchanged(path: Path, expected: bytes) -> None:
    with _folder_guard(path.parent):
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            return
        if current == expected:
            path.unlink()


@contextlib.contextmanager
def _folder_guard(folder: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `folder` so removals of lock files are serialised.

    Creating a lock needs no guard (the hard link is atomic); only removal does,
    because "read, compare, unlink" must not interleave with another removal.
    """
    try:
        import fcntl
    except ImportError:  # TODO: Windows has no flock; removals there are not serialised.
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
