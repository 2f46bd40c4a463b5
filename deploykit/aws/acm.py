"""ACM certificates for a stage's domain.

CloudFront accepts only certificates from ACM in us-east-1, so a certificate
for a CloudFront domain is looked up there (`CLOUDFRONT_REGION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deploykit.aws import error_code

# Every status ListCertificates filters by; without the filter it returns fewer.
ALL_STATUSES = [
    "PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT",
    "REVOKED", "FAILED",
]


@dataclass(frozen=True)
class Certificate:
    """One ACM certificate: where it lives, its status, the names it covers and its users."""

    arn: str
    region: str
    domain: str
    status: str
    names: tuple[str, ...]
    in_use_by: tuple[str, ...]
    not_after: str | None


def arn_region(arn: str) -> str | None:
    """Return the region field of an ARN such as `arn:aws:acm:eu-west-1:1234:certificate/x`."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def covers(names: tuple[str, ...] | list[str], domain: str) -> bool:
    """Tell whether a certificate for `names` is valid for `domain` (one-label wildcards)."""
    domain = domain.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == domain:
            return True
        if name.startswith("*.") and domain.count(".") >= 2 and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def describe_certificate(client: Any, arn: str) -> Certificate | None:
    """Return the certificate `arn` (DescribeCertificate), or None when ACM has no such ARN."""
    from botocore.exceptions import ClientError

    try:
        detail = client.describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as error:
        if error_code(error) in ("ResourceNotFoundException", "ValidationException"):
            return None
        raise
    not_after = detail.get("NotAfter")
    return Certificate(
        arn=str(detail["CertificateArn"]),
        region=arn_region(str(detail["CertificateArn"])) or "",
        domain=str(detail.get("DomainName", "")),
        status=str(detail.get("Status", "")),
        names=tuple(detail.get("SubjectAlternativeNames") or [detail.get("DomainName", "")]),
        in_use_by=tuple(detail.get("InUseBy") or []),
        not_after=not_after.isoformat() if isinstance(not_after, datetime) else None,
    )


def find_certificates(client: Any, domain: str) -> list[Certificate]:
    """Return the certificates in the client's region whose names cover `domain`."""
    found: list[Certificate] = []
    paginator = client.get_paginator("list_certificates")
    for page in paginator.paginate(CertificateStatuses=ALL_STATUSES):
        for summary in page.get("CertificateSummaryList", []):
            names = list(summary.get("SubjectAlternativeNameSummaries") or [])
            names.append(str(summary.get("DomainName", "")))
            if not covers(names, domain):
                continue
            certificate = describe_certificate(client, str(summary["CertificateArn"]))
            if certificate is not None:
                found.append(certificate)
    return found
