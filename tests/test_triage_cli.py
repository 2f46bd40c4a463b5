"""`deploy-kit triage` on the case logs, their variants and bad input, as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CASES, FIXTURES

Cli = Callable[..., subprocess.CompletedProcess[str]]

# (case folder, log file, rule id, evidence line, text the message must contain)
CASE_LOGS: list[tuple[str, str, str, int, str]] = [
    (
        "stage-lock-left-after-an-interrupted-ci-deploy",
        "deploy.log",
        "log-sst-state/stage-locked",
        8,
        "stage production",
    ),
    ("sso-session-expired", "deploy.log", "log-credentials/sso-session-expired", 8, "SSO session"),
    (
        "static-credentials-are-empty",
        "deploy.log",
        "log-credentials/static-credentials-empty",
        11,
        "static credentials are empty",
    ),
    (
        "provider-instead-of-providers-in-app",
        "failed-deploy.log",
        "log-credentials/imds-fallback",
        8,
        "EC2 instance metadata",
    ),
    (
        "region-unresolved",
        "deploy.log",
        "log-credentials/region-unresolved",
        8,
        "ssm.auto.amazonaws.com",
    ),
    (
        "global-pulumi-newer-than-sst-expects",
        "deploy.log",
        "log-pulumi/global-pulumi-too-new",
        8,
        "-root",
    ),
    (
        "state-bucket-missing",
        "deploy.log",
        "log-sst-state/state-bucket-missing",
        8,
        "/sst/bootstrap",
    ),
    (
        "deploy-identity-cannot-read-sst-bootstrap",
        "deploy.log",
        "log-sst-state/bootstrap-access-denied",
        9,
        "ssm:GetParameter",
    ),
    (
        "certificate-in-use-when-sst-replaces-it",
        "deploy.log",
        "log-certificates/certificate-in-use",
        10,
        "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
    ),
    (
        "cloudfront-certificate-not-in-us-east-1",
        "deploy.log",
        "log-certificates/cloudfront-certificate-not-us-east-1",
        9,
        "us-east-1",
    ),
    (
        "cname-already-attached-to-another-distribution",
        "deploy.log",
        "log-cloudfront/cname-already-exists",
        9,
        "E1ABCDEF234567",
    ),
    (
        "reserved-lambda-environment-variable",
        "failed-deploy.log",
        "lambda/reserved-key-rejected-in-log",
        9,
        "AWS_REGION",
    ),
    (
        "server-function-over-the-lambda-size-limit",
        "deploy.log",
        "log-lambda/package-too-large",
        9,
        "262144000",
    ),
    (
        "sst-v2-cli-run-on-a-v3-config",
        "deploy.log",
        "versions/sst-v2-cli-on-v3-config-in-log",
        4,
        "$config",
    ),
    ("corrupted-sst-folder", "dev.log", "log-sst-state/platform-incomplete", 1, "@pulumi/aws"),
    ("recursive-sst-dev-script", "dev.log", "package/recursive-sst-dev-in-log", 1, "sst dev"),
    ("port-already-in-use-after-a-restart", "dev.log", "log-node/port-in-use", 3, "port 3000"),
    (
        "canary-only-next-js-feature-on-a-stable-release",
        "build.log",
        "nextjs/canary-only-error-in-log",
        1,
        "ppr",
    ),
    (
        "node-js-too-old-for-next-js",
        "build.log",
        "versions/node-too-old-for-next-in-log",
        1,
        "18.20.8",
    ),
    (
        "table-already-exists-outside-the-stage-s-state",
        "deploy.log",
        "log-dynamo/table-exists-outside-state",
        9,
        "my-app-production-CustomersTable",
    ),
]


def _report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _findings(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["rule_id"] == rule_id]


def _lines(finding: dict[str, Any]) -> list[int]:
    return [evidence["line"] for evidence in finding["evidence"] if "line" in evidence]


@pytest.mark.parametrize(
    ("case", "log", "rule_id", "line", "named"),
    CASE_LOGS,
    ids=[row[0] for row in CASE_LOGS],
)
def test_triage_case_log(
    cli: Cli,
    tmp_path: Path,
    case: str,
    log: str,
    rule_id: str,
    line: int,
    named: str,
) -> None:
    result = cli("triage", str(CASES / case / log), "-C", str(tmp_path), "--format", "json")

    assert result.returncode == 1, result.stderr
    findings = _findings(_report(result), rule_id)
    assert findings, f"{rule_id} not reported; stdout: {result.stdout}"
    assert any(line in _lines(finding) for finding in findings)
    assert any(named in finding["message"] for finding in findings)


def test_triage_fix_fills_regex_captures(cli: Cli, tmp_path: Path) -> None:
    log = CASES / "node-js-too-old-for-next-js" / "build.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    [finding] = _findings(_report(result), "versions/node-too-old-for-next-in-log")
    assert finding["fix"]["description"] == (
        "use a Node.js that satisfies >=20.9.0 and pin it in .nvmrc"
    )


def test_triage_text_shows_steps_without_fix(cli: Cli, tmp_path: Path) -> None:
    # The rule has manual_steps but no fix, so the steps are all the reader gets.
    log = CASES / "reserved-lambda-environment-variable" / "failed-deploy.log"

    result = cli("triage", str(log), "-C", str(tmp_path))

    text = " ".join(result.stdout.split())  # undo the report's line wrapping
    assert result.returncode == 1, result.stderr
    assert "how to fix: Remove the key from the component's `environment`" in text
    assert "or rename it and update the code that reads it." in text


def test_triage_text_report_names_evidence(cli: Cli, tmp_path: Path) -> None:
    log = CASES / "stage-lock-left-after-an-interrupted-ci-deploy" / "deploy.log"

    result = cli("triage", str(log), "-C", str(tmp_path))

    assert result.returncode == 1
    assert "log-sst-state/stage-locked" in result.stdout
    assert "deploy.log:8" in result.stdout
    assert "sst unlock --stage production" in result.stdout


def test_triage_reads_standard_input(cli: Cli, tmp_path: Path) -> None:
    text = (CASES / "sso-session-expired" / "deploy.log").read_text(encoding="utf-8")

    result = cli("triage", "-", "-C", str(tmp_path), "--format", "json", input=text)

    assert result.returncode == 1, result.stderr
    findings = _findings(_report(result), "log-credentials/sso-session-expired")
    assert findings
    assert findings[0]["evidence"][0]["file"] == "<stdin>"


def test_triage_github_actions_log(cli: Cli, tmp_path: Path) -> None:
    log = FIXTURES / "logs" / "github-actions-sso-expired.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    findings = _findings(_report(result), "log-credentials/sso-session-expired")
    assert findings
    assert _lines(findings[0]) == [7]
    assert "\x1b" not in findings[0]["message"]
    assert "2026-03-02T" not in findings[0]["message"]


def test_triage_sst4_lock_names_stage(cli: Cli, tmp_path: Path) -> None:
    log = FIXTURES / "logs" / "sst4-deploy-locked.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    findings = _findings(_report(result), "log-sst-state/stage-locked")
    assert findings
    assert "stage staging" in findings[0]["message"]


def test_triage_sst4_dev_port(cli: Cli, tmp_path: Path) -> None:
    log = FIXTURES / "logs" / "sst4-dev-port.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    findings = _findings(_report(result), "log-node/port-in-use")
    assert findings
    assert "port 4000" in findings[0]["message"]


def test_triage_follows_sst_log(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".sst" / "log").mkdir(parents=True)
    (tmp_path / ".sst" / "log" / "sst.log").write_text(
        'time=2026-03-02T10:15:01Z level=INFO msg="running pulumi"\n'
        'time=2026-03-02T10:15:02Z level=ERROR msg="exited" '
        'err="flag provided but not defined: -root"\n',
        encoding="utf-8",
    )
    log = tmp_path / "deploy.log"
    log.write_text(
        "~  Deploy\n\n✕  Unexpected error occurred. Please check the logs in .sst/log/sst.log\n",
        encoding="utf-8",
    )

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    report = _report(result)
    findings = _findings(report, "log-pulumi/global-pulumi-too-new")
    assert findings
    assert findings[0]["evidence"][0]["file"] == ".sst/log/sst.log"
    assert findings[0]["evidence"][0]["line"] == 2
    assert not _findings(report, "log-pulumi/unexpected-error")


def test_triage_reports_missing_sst_log(cli: Cli, tmp_path: Path) -> None:
    log = CASES / "global-pulumi-newer-than-sst-expects" / "deploy.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    assert _findings(_report(result), "log-pulumi/unexpected-error")


def test_triage_fix_stores_pulumi_setting(cli: Cli, tmp_path: Path) -> None:
    log = CASES / "global-pulumi-newer-than-sst-expects" / "deploy.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--fix", "--format", "json")

    stored = json.loads((tmp_path / ".deploy-kit" / "run-env.json").read_text(encoding="utf-8"))
    assert stored["production"] == {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"}, result.stdout


def test_triage_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("triage", str(tmp_path / "nope.log"), "-C", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith("error: log file")
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_triage_directory(cli: Cli, tmp_path: Path) -> None:
    result = cli("triage", str(tmp_path), "-C", str(tmp_path))

    assert result.returncode == 2
    assert "is a folder, not a log file" in result.stderr


def test_triage_binary_file(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "core.bin"
    log.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")

    result = cli("triage", str(log), "-C", str(tmp_path))

    assert result.returncode == 2
    assert "binary file (NUL byte at offset 7)" in result.stderr


def test_triage_binary_standard_input(cli: Cli, tmp_path: Path) -> None:
    result = cli("triage", "-", "-C", str(tmp_path), input="abc\x00def")

    assert result.returncode == 2
    assert "standard input is binary" in result.stderr


def test_triage_reads_fifo_once(cli: Cli, tmp_path: Path) -> None:
    # A FIFO, as `deploy-kit triage <(gh run view --log)` passes, yields its bytes once.
    fifo = tmp_path / "ci.fifo"
    os.mkfifo(fifo)
    log = FIXTURES / "logs" / "sst4-deploy-locked.log"

    def write_log() -> None:
        with fifo.open("wb") as stream:
            stream.write(log.read_bytes())

    writer = threading.Thread(target=write_log, daemon=True)
    writer.start()
    result = cli("triage", str(fifo), "-C", str(tmp_path), "--format", "json", timeout=30)
    writer.join(timeout=5)

    assert result.returncode == 1, result.stderr
    [finding] = _findings(_report(result), "log-sst-state/stage-locked")
    assert _lines(finding) == [8]
    assert finding["evidence"][0]["file"] == str(fifo)


def test_triage_binary_fifo(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "core.fifo"
    os.mkfifo(fifo)

    def write_binary() -> None:
        with fifo.open("wb") as stream:
            stream.write(b"abc\x00def")

    writer = threading.Thread(target=write_binary, daemon=True)
    writer.start()
    result = cli("triage", str(fifo), "-C", str(tmp_path), timeout=30)
    writer.join(timeout=5)

    assert result.returncode == 2
    assert "is binary (NUL byte at offset 3)" in result.stderr


def test_triage_undecodable_bytes(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "latin1.log"
    log.write_bytes(
        "Caf\xe9 build\n".encode("latin-1")
        + b"Error: listen EADDRINUSE: address already in use \xff:3000\n"
    )

    result = cli("triage", str(log), "-C", str(tmp_path))

    assert result.returncode == 1
    assert "port 3000" in result.stdout
    assert "not UTF-8" in result.stderr


def test_triage_empty_log(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "empty.log"
    log.write_bytes(b"")

    result = cli("triage", str(log), "-C", str(tmp_path))

    assert result.returncode == 0
    assert "no known failure found" in result.stderr


def test_triage_clean_log(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "ok.log"
    log.write_text("SST 3.3.21  ready!\n\n~  Deploy\n\n✓  Complete\n", encoding="utf-8")

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "json")

    assert result.returncode == 0
    assert _report(result)["findings"] == []


def test_triage_sarif(cli: Cli, tmp_path: Path) -> None:
    log = CASES / "state-bucket-missing" / "deploy.log"

    result = cli("triage", str(log), "-C", str(tmp_path), "--format", "sarif")

    sarif = json.loads(result.stdout)
    rule_ids = [r["ruleId"] for run in sarif["runs"] for r in run["results"]]
    assert "log-sst-state/state-bucket-missing" in rule_ids
