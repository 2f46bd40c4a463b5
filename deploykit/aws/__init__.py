"""AWS adapters: profile and region resolution, SSO, SST state, CloudFront and ACM.

boto3 and botocore are imported inside functions only, because the CLI imports
this package's callers at start-up. Every call honours `AWS_ENDPOINT_URL`
(boto3 reads it itself), which is how tests reach a local moto server.
"""

from __future__ import annotations

from typing import Any

# CloudFront is a global service whose API and certificates live in us-east-1.
CLOUDFRONT_REGION = "us-east-1"


def error_code(error: BaseException) -> str:
    """Return the AWS error code of a botocore error, or the exception's class name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(error).__name__


def error_message(error: BaseException) -> str:
    """Return the AWS error message of a botocore error, or the exception's text."""
    response: Any = getattr(error, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(error)
