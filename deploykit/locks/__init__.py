"""Deployment locks: one deploy per stage at a time.

Two backends share the holder record `LockInfo` and the error `LockHeldError`:
a file `.deployment-lock-STAGE` in the project root guards one machine
(`file_lock`), and an item in a DynamoDB table guards CI runners that share
stages (`dynamodb`).
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deploykit.errors import DeployKitError, InputError, UsageError

LOCK_LIFETIME = timedelta(hours=2)
STAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
REMEDY = "delete it if no deploy is running"


@dataclass(frozen=True)
class LockInfo:
    """The holder of a deployment lock, as stored in the lock file or item."""

    stage: str
    deployer: str
    pid: int
    host: str
    command: str
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utc_now()) >= self.expires_at

    @property
    def same_host(self) -> bool:
        return self.host == socket.gethostname()

    def holder_alive(self) -> bool | None:
        """Tell whether the holding process still runs; None when it runs on another host.

        A pid that now belongs to a process started after the lock was created
        is a reused pid, so the holder counts as dead.
        """
        from deploykit.procinfo import pid_alive, process_start_time

        if not self.same_host:
            return None
        if not pid_alive(self.pid):
            return False
        started = process_start_time(self.pid)
        # One second of slack: /proc start times are in clock ticks after boot.
        return not (started is not None and started > self.created_at.timestamp() + 1)

    def stale(self, now: datetime | None = None) -> bool:
        """Tell whether the lock may be taken over: expired, or its holder on this host is dead."""
        return self.expired(now) or self.holder_alive() is False

    def describe(self) -> str:
        created = self.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.deployer} (pid {self.pid} on {self.host}, `{self.command}`, since {created})"

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "deployer": self.deployer,
            "pid": self.pid,
            "host": self.host,
            "command": self.command,
            "createdAt": format_time(self.created_at),
            "expiresAt": format_time(self.expires_at),
        }


class LockHeldError(DeployKitError):
    """Another deploy holds the lock for this stage; `holder` is its record."""

    def __init__(self, holder: LockInfo, where: str) -> None:
        self.holder = holder
        self.where = where
        expires = holder.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(
            f"stage {holder.stage} is locked by {holder.describe()} in {where}; wait for that "
            f"deploy to finish or for the lock to expire at {expires}"
        )


class MalformedLockError(InputError):
    """A lock record that is not the JSON object deploy-kit writes."""


def new_lock_info(stage: str, command: str, now: datetime | None = None) -> LockInfo:
    """Describe a lock held by this process, created now and expiring after two hours."""
    created = (now or utc_now()).replace(microsecond=0)
    host = socket.gethostname()
    return LockInfo(
        stage=stage,
        deployer=f"{current_user()}@{host}",
        pid=os.getpid(),
        host=host,
        command=command,
        created_at=created,
        expires_at=created + LOCK_LIFETIME,
    )


def parse_lock_record(data: Any, where: str) -> LockInfo:
    """Build a `LockInfo` from decoded JSON, raising `MalformedLockError` naming `where`."""
    if not isinstance(data, dict):
        raise MalformedLockError(f"{where} is not a JSON object; {REMEDY}")
    missing = [key for key in ("stage", "pid", "host", "createdAt", "expiresAt") if key not in data]
    if missing:
        raise MalformedLockError(f"{where} lacks {', '.join(missing)}; {REMEDY}")
    pid = data["pid"]
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise MalformedLockError(f"{where}: pid {pid!r} is not a number; {REMEDY}")
    return LockInfo(
        stage=str(data["stage"]),
        deployer=str(data.get("deployer", "unknown")),
        pid=pid,
        host=str(data["host"]),
        command=str(data.get("command", "")),
        created_at=parse_time(data["createdAt"], where, "createdAt"),
        expires_at=parse_time(data["expiresAt"], where, "expiresAt"),
    )


def check_stage_name(stage: str) -> None:
    """Reject a stage name that cannot be part of a lock file name."""
    if not STAGE_NAME.match(stage):
        raise UsageError(
            f"invalid stage name {stage!r}; use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any, where: str, key: str) -> datetime:
    problem = f"{where}: {key} {value!r} is not an ISO 8601 time; {REMEDY}"
    if not isinstance(value, str):
        raise MalformedLockError(problem)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedLockError(problem) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


__all__ = [
    "LOCK_LIFETIME",
    "LockHeldError",
    "LockInfo",
    "MalformedLockError",
    "REMEDY",
    "check_stage_name",
    "new_lock_info",
    "parse_lock_record",
    "utc_now",
]
