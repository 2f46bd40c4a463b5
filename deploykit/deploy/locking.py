"""The deploy lock of a stage: a file lock, or a DynamoDB item when the config selects it.

`.deploy-config.json` selects the backend with `lock: {backend: dynamodb,
table: NAME}`; anything else uses `.deployment-lock-STAGE` in the project root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deploykit.errors import InputError


def describe_lock(settings: Mapping[str, str], stage: str) -> str:
    """Name the lock a deploy of `stage` takes, for the dry-run plan."""
    if settings.get("backend") == "dynamodb":
        return f"DynamoDB lock item for stage {stage} in table {settings.get('table')}"
    return f"file lock .deployment-lock-{stage}"


@contextmanager
def stage_lock(
    root: Path, stage: str, settings: Mapping[str, str], command: str, *,
    session: Callable[[], Any], app: Callable[[], str],
) -> Iterator[str]:
    """Hold the deploy lock of `stage` for the `with` block and yield where it is.

    `session` and `app` are called only for the DynamoDB backend. Raises
    `LockHeldError` (from the lock modules) when another deploy holds it, and
    `InputError` when the DynamoDB table cannot be used.
    """
    if settings.get("backend") == "dynamodb":
        from botocore.exceptions import BotoCoreError, ClientError

        from deploykit.locks.dynamodb import DynamoDBLock

        table = settings["table"]
        try:
            lock = DynamoDBLock(session(), table, app(), stage).acquire(command)
        except (BotoCoreError, ClientError) as error:
            raise InputError(
                f"taking the deploy lock in DynamoDB table {table!r} failed ({error}); create "
                "the table or set `lock.backend` to `file` in .deploy-config.json"
            ) from None
        try:
            yield lock.where
        finally:
            lock.release()
        return

    from deploykit.locks.file_lock import acquire_file_lock

    with acquire_file_lock(root, stage, command) as file_lock:
        yield file_lock.path.name
