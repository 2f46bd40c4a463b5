"""CloudFront distributions of an SST app, their S3 origins, bucket policies and invalidation.

SST v3 tags every resource it creates with `sst:app` and `sst:stage` (the
Pulumi provider's default tags), which is how a stage's distribution is found
when `.sst/outputs.json` does not name it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploykit.aws import CLOUDFRONT_REGION, error_code

log = logging.getLogger(__name__)

# `BUCKET.s3.amazonaws.com`, `BUCKET.s3.REGION.amazonaws.com` or `BUCKET.s3-REGION...`;
# website endpoints (`s3-website`) are custom origins where access control does not apply.
S3_ORIGIN = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-](?!website)[a-z0-9-]+)?\.amazonaws\.com$"
)
DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{8,20}$")
OAI_PRINCIPAL = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "


@dataclass(frozen=True)
class Origin:
    """One origin of a distribution; `s3_bucket` is set for S3 REST endpoints only."""

    distribution_id: str
    origin_id: str
    domain: str
    s3_bucket: str | None
    oac_id: str
    oai: str


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution and how it was found (`outputs`, `tags` or `alias`)."""

    id: str
    arn: str
    domain_name: str
    aliases: tuple[str, ...]
    tags: Mapping[str, str]
    origins: tuple[Origin, ...]
    found_by: str = ""


@dataclass(frozen=True)
class BucketPolicy:
    """The CloudFront access a bucket policy grants: service principals per distribution, OAIs."""

    bucket: str
    found: bool
    allows_cloudfront_service_for: tuple[str, ...]
    legacy_oai_principals: tuple[str, ...]
    error_code: str | None = None


def s3_bucket_of(domain: str) -> str | None:
    found = S3_ORIGIN.match(domain.lower())
    return found.group("bucket") if found else None


def list_distributions(client: Any) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    for page in client.get_paginator("list_distributions").paginate():
        summaries.extend(page.get("DistributionList", {}).get("Items", []) or [])
    return summaries


def tags_of(client: Any, arn: str) -> dict[str, str]:
    items = client.list_tags_for_resource(Resource=arn).get("Tags", {}).get("Items", []) or []
    return {str(item["Key"]): str(item.get("Value", "")) for item in items}


def to_distribution(
    summary: Mapping[str, Any], tags: Mapping[str, str], found_by: str
) -> Distribution:
    """Build a `Distribution` from a ListDistributions item or a GetDistribution config."""
    distribution_id = str(summary["Id"])
    origins = []
    for origin in summary.get("Origins", {}).get("Items") or []:
        domain = str(origin.get("DomainName", ""))
        s3_config = origin.get("S3OriginConfig") or {}
        oai = str(s3_config.get("OriginAccessIdentity", "")).removeprefix(
            "origin-access-identity/cloudfront/"
        )
        origins.append(
            Origin(
                distribution_id=distribution_id,
                origin_id=str(origin.get("Id", "")),
                domain=domain,
                s3_bucket=s3_bucket_of(domain),
                oac_id=str(origin.get("OriginAccessControlId", "") or ""),
                oai=oai,
            )
        )
    return Distribution(
        id=distribution_id,
        arn=str(summary.get("ARN", "")),
        domain_name=str(summary.get("DomainName", "")),
        aliases=tuple(summary.get("Aliases", {}).get("Items") or []),
        tags=dict(tags),
        origins=tuple(origins),
        found_by=found_by,
    )


def app_distributions(
    client: Any,
    app: str | None,
    stage: str | None,
    domains: tuple[str, ...] = (),
) -> list[Distribution]:
    """Return the distributions tagged with `app` (and `stage`, if given) or aliased to a domain."""
    wanted = {domain.lower() for domain in domains}
    found: list[Distribution] = []
    for summary in list_distributions(client):
        aliases = {alias.lower() for alias in summary.get("Aliases", {}).get("Items") or []}
        tags = tags_of(client, str(summary["ARN"]))
        tagged = (
            app is not None
            and tags.get("sst:app") == app
            and (stage is None or tags.get("sst:stage") == stage)
        )
        if tagged:
            found.append(to_distribution(summary, tags, "tags"))
        elif aliases & wanted:
            found.append(to_distribution(summary, tags, "alias"))
    return found


def find_distribution(
    session: Any,
    app: str | None,
    stage: str | None,
    domain: str | None,
    outputs: Mapping[str, Any] | None,
) -> Distribution | None:
    """Return the stage's distribution, or None; never a guess.

    Order: a distribution id among the SST outputs (a key containing
    "distribution"), else the one distribution tagged `sst:app`=APP and
    `sst:stage`=STAGE, else the one whose alias is `domain`. Two candidates at
    the same step return None.
    """
    client = session.client("cloudfront", region_name=CLOUDFRONT_REGION)

    for key, value in _flatten(outputs or {}):
        if (
            "distribution" in key.lower()
            and isinstance(value, str)
            and DISTRIBUTION_ID.match(value)
        ):
            response = client.get_distribution(Id=value)["Distribution"]
            config = response["DistributionConfig"]
            summary = {
                **config,
                "Id": response["Id"],
                "ARN": response["ARN"],
                "DomainName": response["DomainName"],
            }
            return to_distribution(summary, tags_of(client, response["ARN"]), "outputs")

    summaries = list_distributions(client)
    if app and stage:
        tagged = []
        for summary in summaries:
            tags = tags_of(client, str(summary["ARN"]))
            if tags.get("sst:app") == app and tags.get("sst:stage") == stage:
                tagged.append(to_distribution(summary, tags, "tags"))
        if len(tagged) == 1:
            return tagged[0]
        if len(tagged) > 1:
            log.warning(
                "%d distributions are tagged %s/%s; not choosing one", len(tagged), app, stage
            )
            return None

    if domain:
        aliased = [
            s
            for s in summaries
            if domain.lower() in {a.lower() for a in s.get("Aliases", {}).get("Items") or []}
        ]
        if len(aliased) == 1:
            return to_distribution(aliased[0], tags_of(client, str(aliased[0]["ARN"])), "alias")
    return None


def invalidate(
    session: Any,
    distribution_id: str,
    paths: tuple[str, ...] = ("/*",),
    wait: bool = False,
) -> str:
    """Create an invalidation of `paths` and return its id; with `wait`, wait until it completes."""
    client = session.client("cloudfront", region_name=CLOUDFRONT_REGION)
    response = client.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": f"deploy-kit-{time.time_ns()}",
        },
    )
    invalidation_id = str(response["Invalidation"]["Id"])
    if wait:
        client.get_waiter("invalidation_completed").wait(
            DistributionId=distribution_id,
            Id=invalidation_id,
            WaiterConfig={"Delay": 10, "MaxAttempts": 60},
        )
    return invalidation_id


def read_bucket_policy(s3: Any, bucket: str) -> BucketPolicy:
    """Read and analyse the policy of `bucket`; a missing policy grants nothing."""
    from botocore.exceptions import ClientError

    try:
        text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        code = error_code(error)
        if code == "NoSuchBucketPolicy":
            return BucketPolicy(bucket, False, (), ())
        return BucketPolicy(bucket, False, (), (), code)
    return analyse_policy(bucket, text)


def analyse_policy(bucket: str, text: str) -> BucketPolicy:
    """List the distribution ARNs the CloudFront service may read for, and OAI principals.

    A statement that allows `cloudfront.amazonaws.com` without an
    `AWS:SourceArn` condition allows every distribution and is listed as `*`.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return BucketPolicy(bucket, True, (), (), "MalformedPolicy")
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]

    service_arns: list[str] = []
    oai_principals: list[str] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not _allows_get_object(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        if "cloudfront.amazonaws.com" in _principal_values(principal, "Service"):
            arns = _source_arns(statement.get("Condition"))
            service_arns.extend(arns or ["*"])
        for value in _principal_values(principal, "AWS"):
            if value.startswith(OAI_PRINCIPAL):
                oai_principals.append(value)
        oai_principals.extend(_principal_values(principal, "CanonicalUser"))
    return BucketPolicy(bucket, True, tuple(service_arns), tuple(oai_principals))


def policy_allows(policy: BucketPolicy, distribution_arn: str) -> bool:
    """Tell whether `policy` lets the CloudFront service read for `distribution_arn`."""
    import fnmatch

    return any(
        fnmatch.fnmatchcase(distribution_arn, pattern)
        for pattern in policy.allows_cloudfront_service_for
    )


def required_statement(bucket: str, distribution_arn: str) -> dict[str, Any]:
    """Return the bucket policy statement that lets one distribution read through OAC."""
    return {
        "Sid": "AllowCloudFrontServicePrincipalReadOnly",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def _allows_get_object(action: Any) -> bool:
    actions = action if isinstance(action, list) else [action]
    return any(isinstance(a, str) and a.lower() in ("s3:getobject", "s3:*", "*") for a in actions)


def _principal_values(principal: Any, key: str) -> list[str]:
    if principal == "*":
        return []
    if not isinstance(principal, dict):
        return []
    value = principal.get(key, [])
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _source_arns(condition: Any) -> list[str]:
    if not isinstance(condition, dict):
        return []
    arns: list[str] = []
    for operator_values in condition.values():
        if not isinstance(operator_values, dict):
            continue
        for key, value in operator_values.items():
            if key.lower() == "aws:sourcearn":
                arns.extend(str(item) for item in (value if isinstance(value, list) else [value]))
    return arns


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            items.extend(_flatten(value, name))
        else:
            items.append((name, value))
    return items
