"""Stage 4 of a deploy: invalidate the stage's CloudFront cache.

The distribution comes from `deploykit.aws.cloudfront.find_distribution`: the
distribution id in SST's outputs, else the one tagged with the app and stage,
else the one whose alias is the stage's domain. When none is found the stage
is skipped, because guessing could flush another app's cache.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

INVALIDATION_PATHS = ("/*",)


@dataclass(frozen=True)
class InvalidationOutcome:
    """The status for the timeline (passed, skipped or failed) and what happened."""

    status: str
    detail: str
    distribution_id: str | None = None


def invalidate_stage(
    session: Any, app: str, stage: str, domain: str | None, outputs: Mapping[str, Any], *,
    wait: bool,
) -> InvalidationOutcome:
    """Find the stage's distribution and invalidate `/*`, waiting for completion with `wait`."""
    from botocore.exceptions import BotoCoreError, ClientError

    from deploykit.aws.cloudfront import find_distribution, invalidate

    try:
        distribution = find_distribution(session, app, stage, domain, dict(outputs))
    except (BotoCoreError, ClientError) as error:
        log.info("finding the distribution of %s/%s failed", app, stage, exc_info=True)
        detail = f"looking up the CloudFront distribution failed: {error}"
        return InvalidationOutcome("failed", detail)
    if distribution is None:
        detail = (
            f"no CloudFront distribution found for app {app} stage {stage}"
            f"{f' or domain {domain}' if domain else ''}; nothing invalidated"
        )
        return InvalidationOutcome("skipped", detail)

    distribution_id = str(distribution.id)
    try:
        invalidation = invalidate(session, distribution_id, INVALIDATION_PATHS, wait=wait)
    except (BotoCoreError, ClientError) as error:
        log.info("invalidating %s failed", distribution_id, exc_info=True)
        return InvalidationOutcome(
            "failed", f"invalidation of {distribution_id} failed: {error}", distribution_id,
        )
    paths = " ".join(INVALIDATION_PATHS)
    done = "completed" if wait else "requested"
    detail = f"invalidation {invalidation} of {paths} on {distribution_id} {done}"
    return InvalidationOutcome("passed", detail, distribution_id)
