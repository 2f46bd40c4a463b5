"""SST's bootstrap state in the account: `/sst/bootstrap`, the state bucket and locks.

Facts:

- `aws.bootstrap` {found, bucket, asset_bucket, version, error_code,
  error_message, region, parameter, action, resource_arn}: SSM GetParameter
  `/sst/bootstrap` in the effective region. `error_code` ParameterNotFound is
  normal before the first SST deploy in that account and region.
- `aws.state_bucket` {bucket, exists, error_code, region}: HeadBucket on the
  state bucket that `/sst/bootstrap` names (`exists` is None when the call
  failed for another reason, such as AccessDenied).
- `sst.state_lock` {app, stage, bucket, key, created, age_seconds, age_minutes,
  command, update_id, run_id}: the lock object `lock/APP/STAGE.json` in the state
  bucket, for the run's stage, or for every stage when no stage is known.
- `aws.skipped` {reason, check}: with `--offline`, or when the app name is unknown.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from deploykit.aws.session import AwsRun, aws_run
from deploykit.context import RunContext
from engine.facts import Fact, Source

RESOURCE_IN_MESSAGE = re.compile(r"on resource: (arn:[^\s]+)")


def collect(context: RunContext) -> Iterable[Fact]:
    if context.offline:
        yield Fact("aws.skipped", {"reason": "offline", "check": "SST bootstrap and state lock"},
                   Source(api="ssm:GetParameter"))
        return

    from botocore.exceptions import BotoCoreError

    from deploykit.aws.sst_state import (
        BOOTSTRAP_PARAMETER,
        bucket_exists,
        list_locks,
        read_bootstrap,
        read_lock_object,
    )

    run = aws_run(context)
    region = run.effective_region
    try:
        ssm = run.client("ssm")
    except BotoCoreError as error:
        # Such as ProfileNotFound: the identity collector reports the cause itself.
        yield Fact(
            "aws.skipped",
            {"reason": f"no AWS client: {error}", "check": "SST bootstrap and state lock"},
            Source(api="ssm:GetParameter"),
        )
        return
    bootstrap = read_bootstrap(ssm)
    resource_arn = None
    if bootstrap.error_code not in (None, "ParameterNotFound"):
        resource_arn = _resource_arn(bootstrap.error_message or "", run)
    yield Fact(
        "aws.bootstrap",
        {
            "found": bootstrap.found,
            "bucket": bootstrap.state_bucket,
            "asset_bucket": bootstrap.asset_bucket,
            "version": bootstrap.version,
            "error_code": bootstrap.error_code,
            "error_message": bootstrap.error_message,
            "region": region,
            "parameter": BOOTSTRAP_PARAMETER,
            "action": "ssm:GetParameter",
            "resource_arn": resource_arn,
        },
        Source(api=f"ssm:GetParameter {BOOTSTRAP_PARAMETER} ({region})"),
    )
    if not bootstrap.state_bucket:
        return

    s3 = run.client("s3")
    bucket = bootstrap.state_bucket
    exists, code = bucket_exists(s3, bucket)
    yield Fact(
        "aws.state_bucket",
        {"bucket": bucket, "exists": exists, "error_code": code, "region": region},
        Source(api=f"s3:HeadBucket {bucket}"),
    )
    if not exists:
        return

    app = run.project.app
    if not app:
        yield Fact(
            "aws.skipped",
            {"reason": "the SST app name in sst.config.ts is unknown", "check": "SST state lock"},
            Source(file=run.project.sst_config_file or "sst.config.ts"),
        )
        return
    stage = run.project.stage
    if stage:
        lock = read_lock_object(s3, bucket, app, stage)
        locks = [lock] if lock is not None else []
    else:
        locks = list_locks(s3, bucket, app)
    for lock in locks:
        age_minutes = round(lock.age_seconds / 60) if lock.age_seconds is not None else None
        yield Fact(
            "sst.state_lock",
            {
                "app": lock.app, "stage": lock.stage, "bucket": lock.bucket, "key": lock.key,
                "created": lock.created, "age_seconds": lock.age_seconds,
                "age_minutes": age_minutes,
                "command": lock.command, "update_id": lock.update_id, "run_id": lock.run_id,
            },
            Source(api=f"s3:GetObject s3://{lock.bucket}/{lock.key}"),
        )


def _resource_arn(message: str, run: AwsRun) -> str:
    """Return the parameter ARN from an AccessDenied message, or build it from the identity."""
    found = RESOURCE_IN_MESSAGE.search(message)
    if found:
        return found.group(1).rstrip(".")
    from botocore.exceptions import BotoCoreError, ClientError

    account = "*"
    with contextlib.suppress(ClientError, BotoCoreError):
        account = str(run.client("sts").get_caller_identity()["Account"])
    return f"arn:aws:ssm:{run.effective_region}:{account}:parameter/sst/bootstrap"
