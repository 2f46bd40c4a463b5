"""Remove secret values from text before it is printed in any format."""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

# AWS access key ids (AKIA/ASIA...), secret keys and session tokens after their
# variable names, and `sst secret` values printed as NAME=value.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b"), REDACTED),
    (
        re.compile(
            r"(?i)((?:aws_secret_access_key|aws_session_token|aws_security_token|secret_access_key|session_token)"
            r"[\"']?\s*[=:]\s*[\"']?)([^\s\"',]+)"
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
