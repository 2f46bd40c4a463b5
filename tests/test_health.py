"""Health checks against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploykit.deploy.health import base_url_for, resolve_check_url, run_health_checks
from deploykit.errors import InputError
from tests.conftest import run_cli


@dataclass(frozen=True)
class Check:
    url: str
    expected_status: int | None = 200
    timeout_ms: int | None = 2000
    search_text: str | None = None
    name: str | None = None


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's method name
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/api/health":
            self._reply(200, b"status: OK")
        elif self.path == "/down":
            self._reply(503, b"Service Unavailable")
        elif self.path == "/flaky":
            self._reply(503 if Handler.hits[self.path] == 1 else 200, b"OK")
        elif self.path == "/slow":
            time.sleep(1.5)
            self._reply(200, b"OK")
        elif self.path == "/old":
            self._redirect("/api/health")
        elif self.path == "/loop":
            self._redirect("/loop")
        else:
            self._reply(404, b"Not Found")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    Handler.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_health_passes_on_status_and_text(site: str) -> None:
    [result] = run_health_checks([Check("/api/health", search_text="OK", name="API")], site)

    assert result.ok
    assert result.status == 200


def test_health_fails_on_wrong_status(site: str) -> None:
    [result] = run_health_checks([Check("/down")], site, attempts=2, backoff=0.01)

    assert not result.ok
    assert result.reason == "expected status 200, got 503"


def test_health_retries_until_success(site: str) -> None:
    [result] = run_health_checks([Check("/flaky")], site, attempts=3, backoff=0.01)

    assert result.ok
    assert result.attempts == 2


def test_health_fails_on_missing_search_text(site: str) -> None:
    [result] = run_health_checks([Check("/api/health", search_text="healthy")], site, attempts=1)

    assert result.reason == "response body does not contain 'healthy'"


def test_health_times_out(site: str) -> None:
    [result] = run_health_checks([Check("/slow", timeout_ms=200)], site, attempts=1)

    assert result.status is None
    assert result.reason == "timed out after 200 ms"


def test_health_follows_redirect_and_records_it(site: str) -> None:
    [result] = run_health_checks([Check("/old", search_text="OK")], site, attempts=1)

    assert result.ok
    assert result.redirects == (f"{site}/api/health",)


def test_health_compares_redirect_status_without_following(site: str) -> None:
    [result] = run_health_checks([Check("/old", expected_status=301)], site, attempts=1)

    assert result.ok
    assert Handler.hits.get("/api/health") is None


def test_health_detects_redirect_loop(site: str) -> None:
    [result] = run_health_checks([Check("/loop")], site, attempts=1)

    assert result.reason.startswith("redirect loop")


def test_health_reports_refused_connection() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [result] = run_health_checks([Check("/")], f"http://127.0.0.1:{port}", attempts=1)

    assert result.reason.startswith("request failed: ConnectError")


def test_health_keeps_configuration_order(site: str) -> None:
    results = run_health_checks(
        [Check("/down", name="down"), Check("/api/health", name="api")], site, attempts=1,
    )

    assert [r.name for r in results] == ["down", "api"]


def test_resolve_check_url_joins_path_to_domain() -> None:
    assert resolve_check_url("/api/health", base_url_for("staging.notes.example.com")) == (
        "https://staging.notes.example.com/api/health"
    )


def test_resolve_check_url_keeps_absolute_url() -> None:
    assert resolve_check_url("https://status.example.com/", "https://notes.example.com") == (
        "https://status.example.com/"
    )


def test_resolve_check_url_rejects_path_without_domain() -> None:
    with pytest.raises(InputError, match="no domain"):
        resolve_check_url("/api/health", None)


# `deploy-kit health STAGE` as a real process --------------------------------

def _health_project(tmp_path: Path, checks: list[dict[str, object]]) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    config = {"stages": ["staging", "production"], "healthChecks": checks}
    (root / ".deploy-config.json").write_text(json.dumps(config))
    return root


def test_health_command_passes(tmp_path: Path, site: str) -> None:
    root = _health_project(tmp_path, [{"url": "/api/health", "searchText": "OK", "name": "API"}])

    result = run_cli("health", "staging", "-C", str(root), "--base-url", site)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 1 health checks passed" in result.stdout


def test_health_command_fails_on_bad_status(tmp_path: Path, site: str) -> None:
    root = _health_project(tmp_path, [{"url": "/down", "name": "Home"}])

    result = run_cli("health", "staging", "-C", str(root), "--base-url", site)

    assert result.returncode == 1
    assert "expected status 200, got 503" in result.stdout


def test_health_command_rejects_unknown_stage(tmp_path: Path, site: str) -> None:
    root = _health_project(tmp_path, [{"url": "/api/health"}])

    result = run_cli("health", "qa", "-C", str(root), "--base-url", site)

    assert result.returncode == 2
    assert "stages of .deploy-config.json" in result.stderr


def test_health_command_uses_sst_output_url(tmp_path: Path, site: str) -> None:
    root = _health_project(tmp_path, [{"url": "/api/health"}])
    (root / ".sst").mkdir()
    (root / ".sst" / "outputs.json").write_text(json.dumps({"web": site}))

    result = run_cli("health", "staging", "-C", str(root))

    assert result.returncode == 0, result.stdout + result.stderr
