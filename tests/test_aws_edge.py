"""CloudFront, S3 bucket policies and ACM certificates against the local moto server.

moto drops `OriginAccessControlId` from distribution origins, so the tests of
origin access control use a recorded ListDistributions response of the real
shape through botocore's Stubber. The S3 bucket and its policy stay on moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from deploykit.aws.cloudfront import analyse_policy, find_distribution, invalidate
from deploykit.collectors import aws_edge
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from engine.facts import Fact, FactIndex
from engine.matcher import evaluate

ACCOUNT = "123456789012"
CASE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "cloudfront-to-s3-returns-403"
)


def cloudfront() -> Any:
    return boto3.client("cloudfront", region_name="us-east-1")


def create_distribution(
    reference: str,
    aliases: list[str] | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "CallerReference": reference,
        "Comment": reference,
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "assets",
                    "DomainName": "my-app-assets.s3.eu-west-1.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "assets",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    if aliases:
        config["Aliases"] = {"Quantity": len(aliases), "Items": aliases}
    items = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
    response = cloudfront().create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": items}}
    )
    distribution: dict[str, Any] = response["Distribution"]
    return distribution


def test_find_distribution_by_tags(aws_env: dict[str, str]) -> None:
    create_distribution("other", tags={"sst:app": "notes", "sst:stage": "staging"})
    wanted = create_distribution("prod", tags={"sst:app": "notes", "sst:stage": "production"})
    found = find_distribution(boto3.session.Session(), "notes", "production", None, {})
    assert found is not None
    assert found.id == wanted["Id"]
    assert found.found_by == "tags"


def test_find_distribution_from_outputs(aws_env: dict[str, str]) -> None:
    wanted = create_distribution("prod")
    outputs = {"web": {"url": "https://x", "distributionId": wanted["Id"]}}
    found = find_distribution(boto3.session.Session(), "notes", "production", None, outputs)
    assert found is not None
    assert found.id == wanted["Id"]
    assert found.found_by == "outputs"


def test_find_distribution_by_alias(aws_env: dict[str, str]) -> None:
    wanted = create_distribution("prod", aliases=["notes.example.com"])
    found = find_distribution(
        boto3.session.Session(), "notes", "production", "notes.example.com", None
    )
    assert found is not None
    assert found.id == wanted["Id"]
    assert found.found_by == "alias"


def test_find_distribution_never_guesses(aws_env: dict[str, str]) -> None:
    tags = {"sst:app": "notes", "sst:stage": "production"}
    create_distribution("one", tags=tags)
    create_distribution("two", tags=tags)
    assert find_distribution(boto3.session.Session(), "notes", "production", None, None) is None


def test_find_distribution_none_without_match(aws_env: dict[str, str]) -> None:
    create_distribution("unrelated", aliases=["other.example.com"])
    found = find_distribution(
        boto3.session.Session(), "notes", "production", "notes.example.com", None
    )
    assert found is None


def test_invalidate_creates_invalidation(aws_env: dict[str, str]) -> None:
    distribution = create_distribution("prod")
    invalidation_id = invalidate(boto3.session.Session(), distribution["Id"], ("/*",), wait=True)
    listed = cloudfront().list_invalidations(DistributionId=distribution["Id"])
    ids = [item["Id"] for item in listed["InvalidationList"]["Items"]]
    assert invalidation_id in ids


LEGACY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E3OLDOAI"
            },
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-app-assets/*",
        }
    ],
}


def test_policy_with_legacy_oai_allows_no_distribution() -> None:
    policy = analyse_policy("my-app-assets", json.dumps(LEGACY_POLICY))
    assert policy.allows_cloudfront_service_for == ()
    assert policy.legacy_oai_principals == (LEGACY_POLICY["Statement"][0]["Principal"]["AWS"],)


def test_policy_with_source_arn_condition() -> None:
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": arn}},
    }
    policy = analyse_policy("b", json.dumps({"Statement": [statement]}))
    assert policy.allows_cloudfront_service_for == (arn,)


def recorded_distribution(oac_id: str, oai: str) -> dict[str, Any]:
    """A ListDistributions item as CloudFront returns it (fields trimmed to those read)."""
    return {
        "Id": "E2EXAMPLE1",
        "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1",
        "Status": "Deployed",
        "LastModifiedTime": "2024-05-01T10:00:00Z",
        "DomainName": "d111111abcdef8.cloudfront.net",
        "Aliases": {"Quantity": 1, "Items": ["www.example.com"]},
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "assets",
                    "DomainName": "my-app-assets.s3.eu-west-1.amazonaws.com",
                    "OriginPath": "",
                    "CustomHeaders": {"Quantity": 0},
                    "S3OriginConfig": {"OriginAccessIdentity": oai},
                    "ConnectionAttempts": 3,
                    "ConnectionTimeout": 10,
                    "OriginAccessControlId": oac_id,
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "assets",
            "ViewerProtocolPolicy": "redirect-to-https",
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "PriceClass": "PriceClass_All",
        "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
        "Staging": False,
    }


def edge_facts_with_recorded_cloudfront(oac_id: str, oai: str, policy: dict[str, Any]) -> FactIndex:
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="my-app-assets", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_bucket_policy(Bucket="my-app-assets", Policy=json.dumps(policy))

    client = cloudfront()
    item = recorded_distribution(oac_id, oai)
    with Stubber(client) as stub:
        stub.add_response(
            "list_distributions",
            {
                "DistributionList": {
                    "Marker": "",
                    "MaxItems": 100,
                    "IsTruncated": False,
                    "Quantity": 1,
                    "Items": [item],
                }
            },
        )
        stub.add_response(
            "list_tags_for_resource",
            {
                "Tags": {
                    "Items": [
                        {"Key": "sst:app", "Value": "my-app"},
                        {"Key": "sst:stage", "Value": "production"},
                    ]
                }
            },
            {"Resource": item["ARN"]},
        )
        facts = list(aws_edge.distribution_facts(client, s3, "my-app", "production", ()))
    return FactIndex(facts)


def findings_for(facts: FactIndex, selector: str) -> list[Any]:
    rules = select_rules(load_rules(), "doctor", [selector])
    return evaluate(rules, facts)


def test_case_readme_describes_legacy_oai() -> None:
    assert "E3OLDOAI" in (CASE / "README.md").read_text()


def test_s3_origin_without_oac_reports_statement(aws_env: dict[str, str]) -> None:
    facts = edge_facts_with_recorded_cloudfront(
        "", "origin-access-identity/cloudfront/E3OLDOAI", LEGACY_POLICY
    )
    origin = facts.of_kind("cloudfront.origin")[0]
    assert origin.data["oac_id"] == ""
    assert origin.data["oai"] == "E3OLDOAI"
    assert origin.data["policy_allows_distribution"] is False
    policy = facts.of_kind("s3.bucket_policy")[0]
    assert policy.data["legacy_oai_principals"] == [
        LEGACY_POLICY["Statement"][0]["Principal"]["AWS"]
    ]

    findings = findings_for(facts, "cloudfront")
    assert [f.rule.id for f in findings] == ["cloudfront/s3-origin-without-oac"]
    assert (
        f'"AWS:SourceArn": "arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1"'
        in findings[0].message
    )
    assert '"Service": "cloudfront.amazonaws.com"' in findings[0].message


def test_policy_for_other_distribution_reported(aws_env: dict[str, str]) -> None:
    other = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E9OLDDIST1"
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-app-assets/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": other}},
            }
        ]
    }
    facts = edge_facts_with_recorded_cloudfront("E1OACEXAMPLE", "", policy)
    findings = findings_for(facts, "cloudfront")
    assert [f.rule.id for f in findings] == ["cloudfront/bucket-policy-missing-distribution"]


def test_oac_with_matching_policy_is_clean(aws_env: dict[str, str]) -> None:
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1"
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-app-assets/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": arn}},
            }
        ]
    }
    facts = edge_facts_with_recorded_cloudfront("E1OACEXAMPLE", "", policy)
    assert findings_for(facts, "cloudfront") == []


@pytest.fixture
def project_with_cert(
    copy_project: Callable[[str], Path], aws_env: dict[str, str]
) -> Callable[[str], Path]:
    keys = "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(f"[notes-prod]\n{keys}")

    def make(cert_arn: str) -> Path:
        root = copy_project("healthy")
        config = root / "sst.config.ts"
        text = config.read_text()
        text = text.replace(
            'redirects: ["www.notes.example.com"],',
            f'redirects: ["www.notes.example.com"],\n        cert: "{cert_arn}",',
        )
        config.write_text(text)
        return root

    return make


def edge_facts(root: Path, env: dict[str, str]) -> dict[str, list[Fact]]:
    found: dict[str, list[Fact]] = {}
    for fact in aws_edge.collect(RunContext(root=root, env=env, stage="production")):
        found.setdefault(fact.kind, []).append(fact)
    return found


def test_certificate_outside_us_east_1_reported(
    aws_env: dict[str, str],
    project_with_cert: Callable[[str], Path],
) -> None:
    arn = boto3.client("acm", region_name="eu-west-1").request_certificate(
        DomainName="notes.example.com"
    )["CertificateArn"]
    root = project_with_cert(arn)
    facts = edge_facts(root, dict(aws_env))
    search = facts["acm.search"][0]
    assert search.data["referenced_region"] == "eu-west-1"
    assert search.data["referenced_found"] is True
    assert search.source.file == "sst.config.ts"

    rules = select_rules(load_rules(), "deploy", ["cloudfront/certificate-not-in-us-east-1"])
    result = diagnose(
        RunContext(root=root, env=dict(aws_env), stage="production", scope="deploy"), rules
    )
    assert [f.rule.id for f in result.findings] == ["cloudfront/certificate-not-in-us-east-1"]


def test_certificate_in_us_east_1_found(
    aws_env: dict[str, str],
    project_with_cert: Callable[[str], Path],
) -> None:
    arn = boto3.client("acm", region_name="us-east-1").request_certificate(
        DomainName="notes.example.com",
        SubjectAlternativeNames=["notes.example.com"],
    )["CertificateArn"]
    root = project_with_cert(arn)
    facts = edge_facts(root, dict(aws_env))
    certificate = next(f for f in facts["acm.certificate"] if f.data["arn"] == arn)
    assert certificate.data["region"] == "us-east-1"
    assert certificate.data["referenced"] is True
    assert facts["acm.search"][0].data["referenced_found"] is True


def test_certificate_arn_unknown_reported(
    aws_env: dict[str, str],
    project_with_cert: Callable[[str], Path],
) -> None:
    arn = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000000"
    root = project_with_cert(arn)
    facts = edge_facts(root, dict(aws_env))
    assert facts["acm.search"][0].data["referenced_found"] is False
    findings = findings_for(FactIndex(facts["acm.search"]), "cloudfront/certificate-missing")
    assert len(findings) == 1


def test_offline_skips_edge_calls(aws_env: dict[str, str], tmp_path: Path) -> None:
    facts = list(aws_edge.collect(RunContext(root=tmp_path, env=dict(aws_env), offline=True)))
    assert [fact.kind for fact in facts] == ["aws.skipped"]


def test_policy_arn_like_wildcard_allows_distribution() -> None:
    from deploykit.aws.cloudfront import policy_allows

    statement = {
        "Effect": "Allow",
        "Principal": {"Service": ["cloudfront.amazonaws.com"]},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"}
        },
    }
    policy = analyse_policy("b", json.dumps({"Statement": statement}))
    assert policy_allows(policy, f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EXAMPLE1")
    assert not policy_allows(policy, "arn:aws:cloudfront::999999999999:distribution/E2EXAMPLE1")


@pytest.mark.parametrize(
    ("domain", "bucket"),
    [
        ("my-app-assets.s3.amazonaws.com", "my-app-assets"),
        ("my-app-assets.s3.eu-west-1.amazonaws.com", "my-app-assets"),
        ("my-app-assets.s3-eu-west-1.amazonaws.com", "my-app-assets"),
        ("my-app-assets.s3-website-eu-west-1.amazonaws.com", None),
        ("abc.lambda-url.eu-west-1.on.aws", None),
    ],
)
def test_s3_origin_bucket_names(domain: str, bucket: str | None) -> None:
    from deploykit.aws.cloudfront import s3_bucket_of

    assert s3_bucket_of(domain) == bucket
