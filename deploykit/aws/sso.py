"""Read the AWS SSO token cache to tell whether a profile's SSO session has expired.

The AWS CLI (`aws sso login`) stores the token in `~/.aws/sso/cache/KEY.json`,
where KEY is the SHA-1 hex digest of the `sso_session` name (profiles using an
`[sso-session NAME]` section) or of the `sso_start_url` (legacy profiles), the
same key botocore's `SSOTokenLoader` computes. Only the expiry times are read
from that file: the tokens never leave it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deploykit.aws.session import AwsConfigFiles, home_folder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SsoStatus:
    """The SSO session of one profile, as the token cache shows it.

    `expired` is true when the access token has expired and the cache contains
    no refresh token with a still valid registration. The SDKs refresh such a
    token without a new `aws sso login`.
    """

    profile: str
    start_url: str | None
    sso_session: str | None
    cache_file: str
    cache_found: bool
    expires_at: str | None
    expired: bool


def cache_key(start_url: str | None, sso_session: str | None) -> str:
    text = sso_session or start_url or ""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324 - the AWS cache key


def sso_status(
    files: AwsConfigFiles, profile: str, env: dict[str, str] | None = None,
    now: datetime | None = None,
) -> SsoStatus | None:
    """Return the SSO session status of `profile`, or None when it is not an SSO profile."""
    if not files.is_sso(profile):
        return None
    settings = files.profile(profile)
    sso_session = settings.get("sso_session")
    start_url = settings.get("sso_start_url")
    if sso_session and not start_url:
        start_url = files.sso_sessions.get(sso_session, {}).get("sso_start_url")

    name = f"{cache_key(start_url, sso_session)}.json"
    path = home_folder(env or {}) / ".aws" / "sso" / "cache" / name
    display = f"~/.aws/sso/cache/{name}"
    token = _read_token(path)
    if token is None:
        return SsoStatus(profile, start_url, sso_session, display, False, None, True)

    now = now or datetime.now(UTC)
    expires = _parse_time(token.get("expiresAt"))
    access_expired = expires is None or expires <= now
    registration = _parse_time(token.get("registrationExpiresAt"))
    refreshable = bool(token.get("refreshToken")) and registration is not None and (
        registration > now
    )
    return SsoStatus(
        profile, start_url, sso_session, display, True,
        expires.isoformat().replace("+00:00", "Z") if expires else None,
        access_expired and not refreshable,
    )


def _read_token(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.info("cannot read SSO token cache %s: %s", path.name, type(error).__name__)
        return None
    return data if isinstance(data, dict) else None


def _parse_time(value: object) -> datetime | None:
    """Parse `2024-05-01T10:00:00Z` (also `...UTC`, as older AWS CLI versions wrote it)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("UTC", "+00:00")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
