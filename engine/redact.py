"""Remove secret values from text before it is printed in any format.

`redact(text)` replaces, with `[REDACTED]`:

- AWS access key ids (`AKIA...`, `ASIA...` and the other unique-id prefixes);
- AWS secret access keys: 40 base64 characters of mixed case, alone or after
  a name such as `aws_secret_access_key` or `SecretAccessKey`;
- AWS session tokens (`IQoJb3JpZ2lu...`, `FwoGZXIvYXdz...`) and any value after
  a name such as `aws_session_token` or `SessionToken`;
- the value of any `NAME=value`, `NAME: "value"` or `"NAME": "value"` whose name
  contains SECRET, TOKEN, PASSWORD, PASSWD, API_KEY, PRIVATE_KEY, ACCESS_KEY or
  CREDENTIAL (environment files, ini files, JSON);
- the value in `sst secret set NAME VALUE` and every value registered with
  `register_secret_values` (such as the values `sst secret list` prints);
- private key blocks, JSON web tokens, GitHub, Stripe and Slack tokens,
  `Authorization: Bearer ...` headers and passwords in URLs (`https://user:pw@`).

`redact_data` applies the same to every string in JSON-like data and replaces
whole values under secret-looking keys.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Values shorter than this are not registered: redacting every "1" or "dev" in
# a report would hide more than it protects.
MIN_REGISTERED_LENGTH = 6

_SECRET_WORD = r"(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)"
_SECRET_NAME = rf"[A-Za-z0-9_.-]*{_SECRET_WORD}[A-Za-z0-9_.-]*"
SECRET_KEY_NAME = re.compile(rf"(?i)^{_SECRET_NAME}$")

# AWS unique-id prefixes of access key ids and other IAM credentials.
_ACCESS_KEY_ID = re.compile(
    r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"
)
_SESSION_TOKEN = re.compile(r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9/+=]{20,}")
_BARE_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    # NAME=value and NAME = value (environment files, ini files, sst secret list).
    (
        re.compile(
            rf"(?i)(?<![A-Za-z0-9_.-])({_SECRET_NAME}[\"']?[ \t]*=[ \t]*[\"']?)([^\s\"',;&]+)"
        ),
        r"\1" + REDACTED,
    ),
    # NAME: "value" and "NAME": "value" (JSON, YAML with a quoted value).
    (
        re.compile(rf"(?i)(?<![A-Za-z0-9_.-])({_SECRET_NAME}[\"']?[ \t]*:[ \t]*[\"'])([^\"'\n]+)"),
        r"\1" + REDACTED,
    ),
    # Unquoted YAML and log forms, only for the AWS credential names.
    (
        re.compile(
            r"(?i)((?:aws_)?(?:secret_access_key|session_token|security_token)[ \t]*:[ \t]*)"
            r"([^\s\"',]+)"
        ),
        r"\1" + REDACTED,
    ),
    (
        re.compile(
            r"(\bsst\s+secret\s+set\s+(?:--stage[ =]\S+\s+|--fallback\s+)*"
            r"[A-Za-z_][A-Za-z0-9_]*\s+)"
            r"(?!--)(\S+)"
        ),
        r"\1" + REDACTED,
    ),
    (
        re.compile(
            r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+)([^\s\"',]+)"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/-]{16,}=*)"), r"\1" + REDACTED),
    (
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)"),
        r"\1" + REDACTED + r"\3",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"), REDACTED),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    (_ACCESS_KEY_ID, REDACTED),
    (_SESSION_TOKEN, REDACTED),
)

_registered: set[str] = set()
_registered_lock = threading.Lock()


def redact(text: str) -> str:
    """Return `text` with every secret value it contains replaced by `[REDACTED]`."""
    if not text:
        return text
    with _registered_lock:
        known = sorted(_registered, key=len, reverse=True)
    for value in known:
        text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _BARE_SECRET_KEY.sub(_redact_bare_key, text)


def redact_data(value: Any) -> Any:
    """Return a copy of JSON-like `value` with secrets redacted in keys' values and strings."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            secret_key = isinstance(key, str) and SECRET_KEY_NAME.match(key) is not None
            if secret_key and isinstance(item, str) and item:
                cleaned[key] = REDACTED
            else:
                cleaned[key] = redact_data(item)
        return cleaned
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def register_secret_values(values: Iterable[str]) -> None:
    """Redact these exact values from now on, such as the values of `sst secret list`."""
    with _registered_lock:
        _registered.update(v for v in values if len(v) >= MIN_REGISTERED_LENGTH)


def secret_values_from_sst_list(output: str) -> list[str]:
    """Return the values in `sst secret list` output (`NAME=value` lines, `#` comments)."""
    values = []
    for line in output.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        if name.strip().isidentifier() and value:
            values.append(value.strip().strip("\"'"))
    return values


def _redact_bare_key(found: re.Match[str]) -> str:
    candidate = found.group(0)
    # A secret access key mixes upper and lower case with digits or / and +;
    # git object ids (lower-case hex) and words do not.
    mixed_case = any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)
    has_digit_or_symbol = any(c.isdigit() or c in "/+" for c in candidate)
    return REDACTED if mixed_case and has_digit_or_symbol else candidate
