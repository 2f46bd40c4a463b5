"""The stage's edge: ACM certificates, CloudFront distributions, S3 origins and bucket policies.

The stage's domains come from `domain` of the components in sst.config.ts
(evaluated for the stage) and `stageConfig.STAGE.domain` in
`.deploy-config.json`. CloudFront and its certificates live in us-east-1.

Facts:

- `acm.certificate` {domain, arn, region, status, names, in_use_by, not_after,
  referenced}: certificates covering a stage domain (us-east-1, plus the run's
  region when us-east-1 has none) and the one sst.config.ts references by ARN
  in `domain.cert` (`referenced` true).
- `acm.search` {domain, stage, region, issued_count, referenced_arn,
  referenced_region, referenced_found, other_regions}: one per domain.
- `cloudfront.distribution` {id, arn, aliases, app, stage, domain_name, found_by}:
  distributions tagged with the app (and stage) or aliased to a stage domain.
- `cloudfront.origin` {distribution, distribution_arn, origin_id, domain,
  s3_bucket, oac_id, oai, policy_allows_distribution, required_statement}: S3
  origins; `required_statement` is the bucket policy statement (JSON text)
  that lets this distribution read through an origin access control.
- `s3.bucket_policy` {bucket, found, allows_cloudfront_service_for,
  legacy_oai_principals, error_code}.
- `aws.skipped` {reason, check}: with `--offline`, or with no stage or domain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from deploykit.aws import CLOUDFRONT_REGION
from deploykit.aws.session import AwsRun, aws_run
from deploykit.context import RunContext
from engine.facts import Fact, Source

CHECK = "certificates and CloudFront"


def collect(context: RunContext) -> Iterable[Fact]:
    if context.offline:
        yield Fact(
            "aws.skipped",
            {"reason": "offline", "check": CHECK},
            Source(api="cloudfront:ListDistributions"),
        )
        return

    from botocore.exceptions import BotoCoreError

    run = aws_run(context)
    stage = run.project.stage
    domains = stage_domains(run, stage)
    try:
        cloudfront = run.client("cloudfront", region=CLOUDFRONT_REGION)
        acm = run.client("acm", region=CLOUDFRONT_REGION)
        s3 = run.client("s3")
    except BotoCoreError as error:
        yield Fact(
            "aws.skipped",
            {"reason": f"no AWS client: {error}", "check": CHECK},
            Source(api="cloudfront:ListDistributions"),
        )
        return

    for domain, cert_arn, source in domains:
        yield from certificate_facts(run, acm, domain, stage, cert_arn, source)

    if run.project.app is None and not domains:
        yield Fact(
            "aws.skipped",
            {"reason": "neither the SST app name nor a domain is known", "check": CHECK},
            Source(file=run.project.sst_config_file or "sst.config.ts"),
        )
        return
    names = tuple(domain for domain, _, _ in domains)
    yield from distribution_facts(cloudfront, s3, run.project.app, stage, names)


def stage_domains(run: AwsRun, stage: str | None) -> list[tuple[str, str | None, Source]]:
    """Return (domain, certificate ARN or None, where it is set) for the stage."""
    found: dict[str, tuple[str, str | None, Source]] = {}
    sst_config = run.project.sst_config
    if sst_config is not None and hasattr(sst_config, "domains"):
        for domain in sst_config.domains(stage):
            if domain.name:
                source = Source(file=run.project.sst_config_file, line=domain.line)
                found[domain.name.lower()] = (domain.name, domain.cert, source)
    config = run.project.config
    if config is not None and stage:
        name = config.stage_config(stage).domain
        if name and name.lower() not in found:
            found[name.lower()] = (name, None, Source(file=".deploy-config.json"))
    return list(found.values())


def certificate_facts(
    run: AwsRun,
    acm: Any,
    domain: str,
    stage: str | None,
    cert_arn: str | None,
    source: Source,
) -> Iterable[Fact]:
    from deploykit.aws.acm import arn_region, describe_certificate, find_certificates

    certificates = find_certificates(acm, domain)
    other_regions: list[str] = []
    if (
        not any(c.status == "ISSUED" for c in certificates)
        and run.effective_region != CLOUDFRONT_REGION
    ):
        elsewhere = find_certificates(run.client("acm"), domain)
        other_regions = sorted({c.region for c in elsewhere})
        certificates.extend(elsewhere)

    referenced_found = False
    referenced_region = arn_region(cert_arn) if cert_arn else None
    if cert_arn:
        known = next((c for c in certificates if c.arn == cert_arn), None)
        if known is None and referenced_region:
            known = describe_certificate(run.client("acm", region=referenced_region), cert_arn)
            if known is not None:
                certificates.append(known)
        referenced_found = known is not None

    for certificate in certificates:
        yield Fact(
            "acm.certificate",
            {
                "domain": domain,
                "arn": certificate.arn,
                "region": certificate.region,
                "status": certificate.status,
                "names": list(certificate.names),
                "in_use_by": list(certificate.in_use_by),
                "not_after": certificate.not_after,
                "referenced": certificate.arn == cert_arn,
            },
            Source(api=f"acm:DescribeCertificate ({certificate.region})"),
        )
    issued = [c for c in certificates if c.status == "ISSUED" and c.region == CLOUDFRONT_REGION]
    yield Fact(
        "acm.search",
        {
            "domain": domain,
            "stage": stage,
            "region": CLOUDFRONT_REGION,
            "issued_count": len(issued),
            "referenced_arn": cert_arn,
            "referenced_region": referenced_region,
            "referenced_found": referenced_found,
            "other_regions": other_regions,
        },
        source,
    )


def distribution_facts(
    cloudfront: Any,
    s3: Any,
    app: str | None,
    stage: str | None,
    domains: tuple[str, ...],
) -> Iterable[Fact]:
    """Emit distribution, origin and bucket policy facts; clients are passed in for tests."""
    from deploykit.aws.cloudfront import (
        app_distributions,
        policy_allows,
        read_bucket_policy,
        required_statement,
    )

    policies: dict[str, Any] = {}
    for distribution in app_distributions(cloudfront, app, stage, domains):
        yield Fact(
            "cloudfront.distribution",
            {
                "id": distribution.id,
                "arn": distribution.arn,
                "aliases": list(distribution.aliases),
                "app": distribution.tags.get("sst:app"),
                "stage": distribution.tags.get("sst:stage"),
                "domain_name": distribution.domain_name,
                "found_by": distribution.found_by,
            },
            Source(api="cloudfront:ListDistributions"),
        )
        for origin in distribution.origins:
            if origin.s3_bucket is None:
                continue
            if origin.s3_bucket not in policies:
                policies[origin.s3_bucket] = read_bucket_policy(s3, origin.s3_bucket)
            policy = policies[origin.s3_bucket]
            statement = required_statement(origin.s3_bucket, distribution.arn)
            yield Fact(
                "cloudfront.origin",
                {
                    "distribution": distribution.id,
                    "distribution_arn": distribution.arn,
                    "origin_id": origin.origin_id,
                    "domain": origin.domain,
                    "s3_bucket": origin.s3_bucket,
                    "oac_id": origin.oac_id,
                    "oai": origin.oai,
                    "policy_allows_distribution": (
                        policy_allows(policy, distribution.arn)
                        if policy.error_code is None
                        else None
                    ),
                    "required_statement": json.dumps(statement, indent=2),
                },
                Source(api=f"cloudfront:GetDistribution {distribution.id}"),
            )

    for bucket, policy in policies.items():
        yield Fact(
            "s3.bucket_policy",
            {
                "bucket": bucket,
                "found": policy.found,
                "allows_cloudfront_service_for": list(policy.allows_cloudfront_service_for),
                "legacy_oai_principals": list(policy.legacy_oai_principals),
                "error_code": policy.error_code,
            },
            Source(api=f"s3:GetBucketPolicy {bucket}"),
        )
