"""The local moto server answers real boto3 calls through AWS_ENDPOINT_URL."""

from __future__ import annotations

import boto3


def test_moto_server_answers_sts(aws_env: dict[str, str]) -> None:
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
