"""HTTP health checks against a deployed stage.

Each check from `.deploy-config.json` (`url`, `expectedStatus`, `timeout` in
ms, `searchText`, `name`) runs concurrently with httpx. A `url` that is a path
is joined to the stage's base URL. Redirects are followed by hand, at most
`MAX_REDIRECTS` hops, so that the report can show the chain. A check whose
`expectedStatus` is itself a redirect status is compared against the first
response instead. A failed attempt is retried with exponential back-off,
because a fresh CloudFront deployment can answer with errors for a few
seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from deploykit.errors import InputError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_EXPECTED_STATUS = 200
MAX_REDIRECTS = 5
DEFAULT_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25


class HealthCheckSpec(Protocol):
    """The fields of a configured health check that the runner reads."""

    @property
    def url(self) -> str: ...

    @property
    def expected_status(self) -> int | None: ...

    @property
    def timeout_ms(self) -> int | None: ...

    @property
    def search_text(self) -> str | None: ...

    @property
    def name(self) -> str | None: ...


@dataclass(frozen=True)
class HealthResult:
    """The outcome of one health check after all its attempts."""

    name: str
    url: str
    ok: bool
    status: int | None
    attempts: int
    duration: float
    reason: str = ""
    redirects: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        verdict = "passed" if self.ok else f"failed: {self.reason}"
        hops = f" via {' -> '.join(self.redirects)}" if self.redirects else ""
        tries = f"{self.attempts} attempt(s)"
        return f"{self.name} ({self.url}{hops}): {status}, {verdict} after {tries}"


def base_url_for(domain: str | None) -> str | None:
    """Return `https://DOMAIN` for a bare domain, or `domain` itself when it has a scheme."""
    if not domain:
        return None
    if "://" in domain:
        return domain.rstrip("/")
    return f"https://{domain.strip('/')}"


def stage_base_url(
    override: str | None, domain: str | None, outputs: Mapping[str, Any],
) -> str | None:
    """Return the base URL for paths: `override`, the stage domain, else the first URL output."""
    if override:
        return override.rstrip("/")
    if domain:
        return base_url_for(domain)
    from deploykit.sst import output_urls

    urls = output_urls(outputs)
    return urls[0].rstrip("/") if urls else None


def resolve_check_url(url: str, base_url: str | None) -> str:
    """Join a path such as `/api/health` to `base_url`; absolute URLs stay as they are."""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    if not base_url:
        raise InputError(
            f"health check url {url!r} is a path but the stage has no domain; set "
            "`stageConfig.STAGE.domain` or `mainDomain` in .deploy-config.json, or pass --base-url"
        )
    return urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))


def run_health_checks(
    checks: Sequence[HealthCheckSpec], base_url: str | None, *,
    attempts: int = DEFAULT_ATTEMPTS, backoff: float = BACKOFF_SECONDS,
) -> list[HealthResult]:
    """Run every check concurrently and return the results in configuration order."""
    import httpx

    if not checks:
        return []
    urls = [resolve_check_url(check.url, base_url) for check in checks]
    with httpx.Client(follow_redirects=False, verify=True) as client, ThreadPoolExecutor(
        max_workers=min(8, len(checks)), thread_name_prefix="health",
    ) as pool:
        futures = [
            pool.submit(_run_one, client, check, url, attempts, backoff)
            for check, url in zip(checks, urls, strict=True)
        ]
        return [future.result() for future in futures]


def _run_one(
    client: httpx.Client, check: HealthCheckSpec, url: str, attempts: int, backoff: float,
) -> HealthResult:
    name = check.name or url
    started = time.monotonic()
    result = HealthResult(name, url, False, None, 0, 0.0, "not run")
    for attempt in range(1, max(1, attempts) + 1):
        status, reason, redirects = _probe(client, check, url)
        result = HealthResult(
            name=name, url=url, ok=not reason, status=status, attempts=attempt,
            duration=time.monotonic() - started, reason=reason, redirects=redirects,
        )
        if result.ok:
            return result
        log.info("health check %s attempt %d failed: %s", name, attempt, reason)
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return result


Probe = tuple[int | None, str, tuple[str, ...]]


def _probe(client: httpx.Client, check: HealthCheckSpec, url: str) -> Probe:
    """Request `url` once; return the final status, a failure reason ('' when passed), the hops."""
    import httpx

    expected = check.expected_status or DEFAULT_EXPECTED_STATUS
    timeout = (check.timeout_ms or DEFAULT_TIMEOUT_MS) / 1000
    follow = not 300 <= expected < 400
    redirects: list[str] = []
    current = url
    try:
        while True:
            response = client.get(current, timeout=timeout)
            if not (follow and response.is_redirect):
                break
            location = response.headers.get("location", "")
            target = urljoin(current, location)
            if target in redirects or target == url:
                return response.status_code, f"redirect loop at {target}", tuple(redirects)
            if len(redirects) >= MAX_REDIRECTS:
                reason = f"more than {MAX_REDIRECTS} redirects"
                return response.status_code, reason, tuple(redirects)
            redirects.append(target)
            current = target
    except httpx.TimeoutException:
        return None, f"timed out after {timeout * 1000:g} ms", tuple(redirects)
    except httpx.HTTPError as error:
        return None, f"request failed: {_describe_error(error)}", tuple(redirects)

    status = response.status_code
    if status != expected:
        return status, f"expected status {expected}, got {status}", tuple(redirects)
    if check.search_text and check.search_text not in response.text:
        return status, f"response body does not contain {check.search_text!r}", tuple(redirects)
    return status, "", tuple(redirects)


def _describe_error(error: Any) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
