"""`deploy-kit deploy STAGE` as a real process with the fake sst, moto and a local HTTP server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli
from tests.fakesst import fake_sst_env, read_records
from tests.fakesst.projects import commit_all, prepare_healthy_project, write_aws_profiles

AWS_PROFILE = "notes-dev"


@dataclass
class DeployProject:
    """A copy of the healthy sample project, a git repository, with the fake sst installed."""

    root: Path
    record: Path
    env: dict[str, str]

    def configure(self, **changes: Any) -> None:
        path = self.root / ".deploy-config.json"
        config = json.loads(path.read_text())
        config.update(changes)
        path.write_text(json.dumps(config, indent=2))
        commit_all(self.root, "Change the deploy config")

    def stage_config(self, stage: str, **changes: Any) -> None:
        path = self.root / ".deploy-config.json"
        config = json.loads(path.read_text())
        config["stageConfig"].setdefault(stage, {}).update(changes)
        path.write_text(json.dumps(config, indent=2))
        commit_all(self.root, "Change the stage config")

    def deploy(
        self, *args: str, transcript: str = "deploy-success", **env: str,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**self.env, **fake_sst_env(self.record, transcript), **env}
        return run_cli("deploy", *args, "-C", str(self.root), env=full_env, timeout=120)

    def runs(self) -> list[dict[str, Any]]:
        return read_records(self.record, "run")

    def logs(self) -> list[Path]:
        folder = self.root / ".deploy-kit" / "logs"
        return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def project(tmp_path: Path, aws_env: dict[str, str]) -> DeployProject:
    root = tmp_path / "notes"
    config = json.loads((FIXTURES / "projects" / "healthy" / ".deploy-config.json").read_text())
    config["stageConfig"]["staging"]["skipCacheInvalidation"] = True
    prepare_healthy_project(root, {
        "preDeploymentChecks": ["echo typecheck passed"],
        "healthChecks": [],
        "stageConfig": config["stageConfig"],
    })
    write_aws_profiles(aws_env)
    return DeployProject(root, tmp_path / "sst-record.jsonl", dict(aws_env))


class HealthHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's method name
        status, body = (200, b"status: OK") if self.path == "/api/health" else (503, b"down")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HealthHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_deploy_success_runs_sst_with_stage_and_profile(project: DeployProject) -> None:
    result = project.deploy("staging")

    assert result.returncode == 0, result.stdout + result.stderr
    [run] = project.runs()
    assert run["argv"] == ["deploy", "--stage", "staging"]
    assert run["env"]["AWS_PROFILE"] == AWS_PROFILE
    assert "deployed staging" in result.stdout


def test_deploy_keeps_log_and_releases_lock(project: DeployProject) -> None:
    project.deploy("staging")

    sst_logs = [path for path in project.logs() if "-check-" not in path.name]
    assert len(sst_logs) == 1
    assert "✓  Complete" in sst_logs[0].read_text()
    assert not (project.root / ".deployment-lock-staging").exists()


def test_deploy_passes_stored_run_settings(project: DeployProject) -> None:
    from deploykit.runsettings import save_run_env

    save_run_env(project.root, "staging", {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"})

    project.deploy("staging")

    [run] = project.runs()
    assert run["env"]["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"


def test_deploy_summary_lists_every_stage(project: DeployProject) -> None:
    result = project.deploy("staging")

    summary = result.stdout[result.stdout.index("Summary"):]
    for stage in ("pre-deploy checks", "deploy", "health checks", "cache invalidation"):
        assert stage in summary


@pytest.mark.parametrize("stage", ["--help-me", "Prod Stage", "production;rm", "prod"])
def test_deploy_rejects_invalid_stage_before_running(project: DeployProject, stage: str) -> None:
    result = project.deploy(stage)

    assert result.returncode == 2
    assert project.runs() == []
    assert project.logs() == []


def test_deploy_suggests_closest_stage(project: DeployProject) -> None:
    result = project.deploy("prod")

    assert "'production'" in result.stderr


def test_deploy_requires_yes_without_terminal(project: DeployProject) -> None:
    result = project.deploy("production")

    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert project.runs() == []


def test_deploy_confirmed_with_yes(project: DeployProject) -> None:
    project.stage_config("production", skipCacheInvalidation=True)

    result = project.deploy("production", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert project.runs()[0]["argv"] == ["deploy", "--stage", "production"]


def test_deploy_dry_run_changes_nothing(project: DeployProject) -> None:
    before = _tree(project.root)

    result = project.deploy("staging", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr
    assert project.runs() == []
    assert _tree(project.root) == before
    assert "lock: file lock .deployment-lock-staging" in result.stdout


def test_deploy_dry_run_needs_no_confirmation(project: DeployProject) -> None:
    result = project.deploy("production", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "sst deploy --stage production" in result.stdout


def _tree(root: Path) -> dict[str, float]:
    return {
        str(path.relative_to(root)): path.lstat().st_mtime
        for path in root.rglob("*") if ".git" not in path.relative_to(root).parts
    }


# Failed deploys: every transcript of a real failure is triaged with the rule for its cause.
TRIAGED = [
    ("deploy-stage-lock-left-after-an-interrupted-ci-deploy", "log-sst-state/stage-locked"),
    ("deploy-state-bucket-missing", "log-sst-state/state-bucket-missing"),
    ("deploy-sso-session-expired", "log-credentials/sso-session-expired"),
    ("deploy-certificate-in-use-when-sst-replaces-it", "log-certificates/certificate-in-use"),
    (
        "deploy-cname-already-attached-to-another-distribution",
        "log-cloudfront/cname-already-exists",
    ),
    ("deploy-server-function-over-the-lambda-size-limit", "log-lambda/package-too-large"),
    (
        "deploy-table-already-exists-outside-the-stage-s-state",
        "log-dynamo/table-exists-outside-state",
    ),
    ("deploy-global-pulumi-newer-than-sst-expects", "log-pulumi/global-pulumi-too-new"),
    ("deploy-static-credentials-are-empty", "log-credentials/static-credentials-empty"),
    ("deploy-region-unresolved", "log-credentials/region-unresolved"),
    (
        "deploy-deploy-identity-cannot-read-sst-bootstrap",
        "log-sst-state/bootstrap-access-denied",
    ),
    (
        "deploy-cloudfront-certificate-not-in-us-east-1",
        "log-certificates/cloudfront-certificate-not-us-east-1",
    ),
    ("deploy-reserved-lambda-environment-variable", "lambda/reserved-key-rejected-in-log"),
]


@pytest.mark.parametrize(("transcript", "rule_id"), TRIAGED)
def test_deploy_failure_triaged_with_rule(
    project: DeployProject, transcript: str, rule_id: str,
) -> None:
    result = project.deploy("staging", transcript=transcript)

    assert result.returncode == 1
    assert "Diagnosis of the failed deploy" in result.stdout
    assert rule_id in result.stdout


def test_deploy_failure_releases_lock(project: DeployProject) -> None:
    project.deploy("staging", transcript="deploy-state-bucket-missing")

    assert not (project.root / ".deployment-lock-staging").exists()


def test_deploy_retry_runs_sst_again(project: DeployProject) -> None:
    transcripts = ["deploy-state-bucket-missing", "deploy-success"]

    result = project.deploy("staging", "--retry", "1", transcript=",".join(transcripts))

    assert result.returncode == 0, result.stdout + result.stderr
    assert [run["transcript"] for run in project.runs()] == transcripts


def test_deploy_without_retry_stops_after_failure(project: DeployProject) -> None:
    project.deploy("staging", transcript="deploy-state-bucket-missing,deploy-success")

    assert len(project.runs()) == 1


def test_deploy_rejects_negative_retry(project: DeployProject) -> None:
    result = project.deploy("staging", "--retry", "-1")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "not in the range x>=0" in result.stderr
    assert project.runs() == []


def test_deploy_blocked_by_live_file_lock(project: DeployProject) -> None:
    from deploykit.locks import new_lock_info

    holder = new_lock_info("staging", "deploy-kit deploy staging")  # this test process: alive
    (project.root / ".deployment-lock-staging").write_text(json.dumps(holder.to_json()))

    result = project.deploy("staging")

    assert result.returncode == 1
    assert project.runs() == []
    assert (project.root / ".deployment-lock-staging").exists()


def test_deploy_project_check_failure_stops_deploy(project: DeployProject) -> None:
    project.configure(preDeploymentChecks=["echo 'src/app.ts(3,1): error TS2304' && exit 2"])

    result = project.deploy("staging")

    assert result.returncode == 1
    assert "error TS2304" in result.stdout
    assert project.runs() == []


def test_deploy_project_check_output_collapsed_on_success(project: DeployProject) -> None:
    result = project.deploy("staging")

    assert "✓ echo typecheck passed" in result.stdout
    assert "\ntypecheck passed\n" not in result.stdout


def test_deploy_hooks_run_in_order(project: DeployProject) -> None:
    trace = project.root.parent / "hooks.txt"
    project.configure(hooks={
        name: f"echo {name} $DEPLOY_KIT_STAGE >> {trace}"
        for name in ("preDeploy", "postBuild", "postDeploy")
    })

    project.deploy("staging")

    expected = ["preDeploy staging", "postBuild staging", "postDeploy staging"]
    assert trace.read_text().splitlines() == expected


def test_deploy_failed_pre_deploy_hook_runs_on_error(project: DeployProject) -> None:
    trace = project.root.parent / "hooks.txt"
    project.configure(hooks={
        "preDeploy": "exit 4",
        "onError": f"echo onError $DEPLOY_KIT_FAILED_PHASE >> {trace}",
    })

    result = project.deploy("staging")

    assert result.returncode == 1
    assert project.runs() == []
    assert trace.read_text().splitlines() == ["onError deploy"]


def test_deploy_custom_script_gets_stage(project: DeployProject) -> None:
    script = project.root / "deploy.sh"
    output = project.root.parent / "custom.txt"
    script.write_text(f'#!/bin/sh\necho "custom deploy of $1" > {output}\n')
    script.chmod(0o755)
    project.configure(customDeployScript="./deploy.sh")

    result = project.deploy("staging")

    assert result.returncode == 0, result.stdout + result.stderr
    assert output.read_text() == "custom deploy of staging\n"
    assert project.runs() == []


def test_deploy_health_checks_pass(project: DeployProject, site: str) -> None:
    project.configure(
        healthChecks=[{"url": "/api/health", "expectedStatus": 200, "searchText": "OK"}],
    )

    result = project.deploy("staging", "--base-url", site)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{site}/api/health" in result.stdout


def test_deploy_health_check_failure_is_triaged(project: DeployProject, site: str) -> None:
    project.configure(healthChecks=[{"url": "/missing", "expectedStatus": 200, "name": "Home"}])

    result = project.deploy("staging", "--base-url", site)

    assert result.returncode == 1
    assert "expected status 200, got 503" in result.stdout
    assert "Diagnosis of the failed health" in result.stdout


def test_deploy_ctrl_c_reaches_sst_and_releases_lock(project: DeployProject) -> None:
    env = {
        **os.environ, "NO_COLOR": "1", "TERM": "dumb", **project.env,
        **fake_sst_env(project.record, "deploy-slow"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "deploykit", "deploy", "staging", "-C", str(project.root)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    lock = project.root / ".deployment-lock-staging"
    _wait_for(lambda: bool(project.runs()) and lock.exists())
    time.sleep(0.3)  # let the fake print its first lines

    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stdout + stderr
    assert [entry["signal"] for entry in read_records(project.record, "signal")] == ["SIGINT"]
    assert not lock.exists()
    sst_log = [path for path in project.logs() if "-check-" not in path.name][0]
    assert "SIGINT received, cancelling" in sst_log.read_text()


def _wait_for(condition: Callable[[], bool], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_deploy_fix_stores_setting_for_retry(project: DeployProject) -> None:
    transcripts = "deploy-global-pulumi-newer-than-sst-expects,deploy-success"

    result = project.deploy("staging", "--fix", "--retry", "1", transcript=transcripts)

    assert result.returncode == 0, result.stdout + result.stderr
    first, second = project.runs()
    assert "PULUMI_IGNORE_AMBIENT_PLUGINS" not in first["env"]
    assert second["env"]["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"


def test_deploy_fix_without_terminal_suggests_retry(project: DeployProject) -> None:
    result = project.deploy(
        "staging", "--fix", transcript="deploy-global-pulumi-newer-than-sst-expects",
    )

    assert result.returncode == 1
    assert "rerun with --retry 1" in result.stdout
    assert len(project.runs()) == 1


def test_deploy_health_path_without_domain_fails_stage(project: DeployProject) -> None:
    transcript = project.root.parent / "no-outputs.txt"
    transcript.write_text("exit: 0\n---\n✓  Complete\n")
    stages = json.loads((project.root / ".deploy-config.json").read_text())["stageConfig"]
    del stages["staging"]["domain"]
    project.configure(stageConfig=stages, healthChecks=[{"url": "/api/health"}])

    result = project.deploy("staging", transcript=str(transcript))

    assert result.returncode == 1
    assert "has no domain" in result.stdout
    assert not (project.root / ".deployment-lock-staging").exists()


def test_deploy_monorepo_runs_sst_in_its_folder(tmp_path: Path, aws_env: dict[str, str]) -> None:
    from tests.fakesst import install_fake_sst
    from tests.fakesst.projects import git

    root = tmp_path / "acme"
    shutil.copytree(FIXTURES / "projects" / "monorepo", root, symlinks=True)
    install_fake_sst(root)
    # The sample is broken on purpose; repair its two errors so that the checks pass.
    config = root / "infra" / "sst.config.ts"
    config.write_text(config.read_text().replace(', status: "string"', ""))
    (root / "apps" / "web" / "next.config.mjs").write_text("export default {};\n")
    (root / ".gitignore").write_text(".deploy-kit/\n.sst/\nnode_modules/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "Initial commit")
    record = tmp_path / "record.jsonl"

    # deploy-timed names no distribution, and moto has none to invalidate.
    env = fake_sst_env(record, "deploy-timed")

    result = run_cli("deploy", "staging", "-C", str(root), env=env, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    [run] = read_records(record, "run")
    assert Path(run["cwd"]) == (root / "infra").resolve()
    assert (root / "infra" / ".sst" / "outputs.json").exists()
