"""SST's own state in the account: the `/sst/bootstrap` parameter and the state lock.

SST v3 and v4 keep one SSM parameter `/sst/bootstrap` per account and region,
shared by every SST app there. Its value is JSON such as
`{"version": 2, "asset": "sst-asset-abc", "state": "sst-state-abc", ...}`
where `state` names the state bucket (SST source, pkg/project/provider/aws.go).
While a deploy runs, SST holds the lock object `lock/APP/STAGE.json` in that
bucket, JSON `{"created": RFC 3339 time, "updateID", "runID", "command"}`;
`sst unlock --stage STAGE` deletes it. deploy-kit only reads these.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deploykit.aws import error_code, error_message

log = logging.getLogger(__name__)

BOOTSTRAP_PARAMETER = "/sst/bootstrap"
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404", "NotFound"})
MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class Bootstrap:
    """The `/sst/bootstrap` parameter: found or not, the buckets it names, or the error."""

    found: bool
    state_bucket: str | None = None
    asset_bucket: str | None = None
    version: int | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class StateLock:
    """SST's state lock of one stage: the lock object and what it records."""

    app: str
    stage: str
    bucket: str
    key: str
    created: str | None
    age_seconds: float | None
    command: str | None
    update_id: str | None
    run_id: str | None


def lock_key(app: str, stage: str) -> str:
    return f"lock/{app}/{stage}.json"


def read_bootstrap(ssm: Any) -> Bootstrap:
    """Read `/sst/bootstrap` with an SSM client.

    An error AWS returns (ParameterNotFound, AccessDeniedException, ...)
    becomes `error_code`. A botocore error without a response, such as
    EndpointConnectionError, is raised, so the check reads as not run.
    """
    from botocore.exceptions import ClientError

    try:
        response = ssm.get_parameter(Name=BOOTSTRAP_PARAMETER, WithDecryption=False)
    except ClientError as error:
        code = error_code(error)
        if code == "ParameterNotFound":
            return Bootstrap(found=False, error_code=code)
        return Bootstrap(found=False, error_code=code, error_message=error_message(error))

    value = response.get("Parameter", {}).get("Value", "")
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        return Bootstrap(found=True, error_code="InvalidJSON",
                         error_message=f"{BOOTSTRAP_PARAMETER} is not JSON")
    if not isinstance(data, dict):
        return Bootstrap(found=True, error_code="InvalidJSON",
                         error_message=f"{BOOTSTRAP_PARAMETER} is not a JSON object")
    version = data.get("version")
    # Older component code wrote `bucket` under /sst/bootstrap/asset; accept it as a fallback.
    state = data.get("state") or data.get("bucket")
    return Bootstrap(
        found=True,
        state_bucket=str(state) if state else None,
        asset_bucket=str(data["asset"]) if data.get("asset") else None,
        version=version if isinstance(version, int) else None,
    )


def bucket_exists(s3: Any, bucket: str) -> tuple[bool | None, str | None]:
    """HeadBucket: (True, None), (False, code) when missing, (None, code) on other errors."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = error_code(error)
        if code in MISSING_BUCKET_CODES:
            return False, "NoSuchBucket"
        return None, code
    return True, None


def read_lock_object(
    s3: Any, bucket: str, app: str, stage: str, now: datetime | None = None,
) -> StateLock | None:
    """Return the state lock of `app`/`stage` in `bucket`, or None when there is none."""
    from botocore.exceptions import ClientError

    key = lock_key(app, stage)
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in MISSING_KEY_CODES:
            return None
        raise
    body = response["Body"].read()
    return parse_lock(body, app, stage, bucket, key, response.get("LastModified"), now)


def list_locks(s3: Any, bucket: str, app: str, now: datetime | None = None) -> list[StateLock]:
    """Return every stage's state lock of `app` in `bucket` (ListObjectsV2 + GetObject)."""
    prefix = f"lock/{app}/"
    stages: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            name = str(item["Key"])[len(prefix):]
            if name.endswith(".json") and "/" not in name:
                stages.append(name.removesuffix(".json"))
    locks = [read_lock_object(s3, bucket, app, stage, now) for stage in sorted(stages)]
    return [lock for lock in locks if lock is not None]


def read_state_lock(session: Any, app: str, stage: str) -> StateLock | None:
    """Return SST's state lock of `app`/`stage`, or None when no stage is locked.

    Returns None too when the account has no `/sst/bootstrap` (nothing was ever
    deployed there); raises botocore errors such as AccessDenied.
    """
    from botocore.exceptions import ClientError

    bootstrap = read_bootstrap(session.client("ssm"))
    if bootstrap.error_code == "ParameterNotFound":
        return None
    if bootstrap.error_code is not None or not bootstrap.state_bucket:
        raise RuntimeError(
            f"cannot read {BOOTSTRAP_PARAMETER}: {bootstrap.error_code}: {bootstrap.error_message}"
        )
    try:
        return read_lock_object(session.client("s3"), bootstrap.state_bucket, app, stage)
    except ClientError as error:
        if error_code(error) in MISSING_BUCKET_CODES:
            return None
        raise


def parse_lock(
    body: bytes, app: str, stage: str, bucket: str, key: str,
    last_modified: datetime | None = None, now: datetime | None = None,
) -> StateLock:
    """Build a `StateLock` from the lock object's JSON; the object's time is the fallback."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    created = parse_go_time(data.get("created")) or last_modified
    now = now or datetime.now(UTC)
    age = round((now - created).total_seconds(), 1) if created else None
    return StateLock(
        app=app, stage=stage, bucket=bucket, key=key,
        created=created.astimezone(UTC).isoformat().replace("+00:00", "Z") if created else None,
        age_seconds=age,
        command=_text(data.get("command")),
        update_id=_text(data.get("updateID")),
        run_id=_text(data.get("runID")),
    )


_FRACTION = re.compile(r"\.(\d{6})\d+")


def parse_go_time(value: object) -> datetime | None:
    """Parse a Go `time.Time` JSON value (RFC 3339 with up to nanoseconds)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(r".\1", value.strip())
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year <= 1:  # Go's zero time: the lock records no creation time
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
