"""Secret values never reach a report: AWS keys, tokens, sst secrets and friends."""

from __future__ import annotations

import pytest

from engine.redact import (
    REDACTED,
    redact,
    redact_data,
    register_secret_values,
    secret_values_from_sst_list,
)

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample"

CASES = [
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("key ASIAIOSFODNN7EXAMPLE expired", "ASIAIOSFODNN7EXAMPLE"),
    (f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}", SECRET_KEY),
    (f"aws_secret_access_key = {SECRET_KEY}", SECRET_KEY),
    (f'{{"SecretAccessKey": "{SECRET_KEY}"}}', SECRET_KEY),
    (f"aws_session_token: {SESSION_TOKEN}", SESSION_TOKEN),
    (f'"SessionToken": "{SESSION_TOKEN}"', SESSION_TOKEN),
    (f"token in log {SESSION_TOKEN} end", SESSION_TOKEN),
    (f"bare key {SECRET_KEY} in text", SECRET_KEY),
    ("export STRIPE_SECRET='sk_live_abcdefghijklmnop1234'", "sk_live_abcdefghijklmnop1234"),
    ("DATABASE_PASSWORD=hunter2hunter2", "hunter2hunter2"),
    ("sst secret set StripeKey whsec_abc123def", "whsec_abc123def"),
    ("sst secret set --stage production StripeKey whsec_abc123def", "whsec_abc123def"),
    ("postgres://admin:s3cr3tpw@db.internal:5432/app", "s3cr3tpw"),
    ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345"),
    (
        "GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAexample",
    ),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl", "eyJzdWIiOiIxMjM0In0"),
]


@pytest.mark.parametrize(("text", "secret"), CASES, ids=[secret[:12] for _, secret in CASES])
def test_redact_removes_secret(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "could not check secrets: timed out after 5 s",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "PULUMI_IGNORE_AMBIENT_PLUGINS=true",
        "arn:aws:iam::123456789012:role/deploy",
        "sst secret list --stage staging",
        "",
    ],
)
def test_redact_keeps_plain_text(text: str) -> None:
    assert redact(text) == text


def test_redact_keeps_variable_name() -> None:
    assert redact(f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}") == f"AWS_SECRET_ACCESS_KEY={REDACTED}"


def test_redact_data_secret_keys() -> None:
    data = {"env": {"API_TOKEN": "abc", "REGION": "us-east-1"}, "items": [f"key={SECRET_KEY}"]}
    cleaned = redact_data(data)
    assert cleaned["env"]["API_TOKEN"] == REDACTED
    assert cleaned["env"]["REGION"] == "us-east-1"
    assert SECRET_KEY not in cleaned["items"][0]


def test_registered_sst_secret_values() -> None:
    output = (
        "# app: notes\n# stage: dev\nStripeKey=sk_test_value_123\nDatabaseUrl=postgres-url-value\n"
    )
    values = secret_values_from_sst_list(output)
    assert values == ["sk_test_value_123", "postgres-url-value"]

    register_secret_values(values)
    assert "postgres-url-value" not in redact("connecting to postgres-url-value failed")


def test_registered_short_values_ignored() -> None:
    register_secret_values(["dev"])
    assert redact("stage dev") == "stage dev"
