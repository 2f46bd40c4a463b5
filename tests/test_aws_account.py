"""/sst/bootstrap, the state bucket and SST's state lock, against the local moto server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from deploykit.aws.sst_state import read_bootstrap, read_state_lock
from deploykit.collectors import aws_account
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from engine.facts import Fact

STATE_BUCKET = "sst-state-abc123"
APP = "notes"


def facts_of(context: RunContext) -> dict[str, list[Fact]]:
    found: dict[str, list[Fact]] = {}
    for fact in aws_account.collect(context):
        found.setdefault(fact.kind, []).append(fact)
    return found


def bootstrap_account(bucket: str | None = STATE_BUCKET, create_bucket: bool = True) -> None:
    """Write /sst/bootstrap as SST v3 writes it and create the state bucket."""
    value = {
        "version": 2,
        "asset": "sst-asset-abc123",
        "assetEcrRegistryId": "123456789012",
        "assetEcrUrl": "",
        "state": bucket,
    }
    boto3.client("ssm").put_parameter(Name="/sst/bootstrap", Value=json.dumps(value), Type="String")
    if create_bucket and bucket:
        boto3.client("s3").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )


def put_lock(stage: str, created: datetime, command: str = "deploy") -> None:
    body = {
        "created": created.isoformat().replace("+00:00", "Z"),
        "updateID": "u1",
        "runID": "",
        "command": command,
    }
    boto3.client("s3").put_object(
        Bucket=STATE_BUCKET, Key=f"lock/{APP}/{stage}.json", Body=json.dumps(body).encode()
    )


@pytest.fixture
def project(copy_project: Callable[[str], Path], aws_env: dict[str, str]) -> Path:
    """The healthy sample project, whose sst.config.ts names notes-dev and notes-prod."""
    keys = "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        f"[notes-dev]\n{keys}[notes-prod]\n{keys}"
    )
    return copy_project("healthy")


def test_bootstrap_missing_is_first_deploy(aws_env: dict[str, str], project: Path) -> None:
    facts = facts_of(RunContext(root=project, env=dict(aws_env), stage="production"))
    bootstrap = facts["aws.bootstrap"][0]
    assert bootstrap.data["found"] is False
    assert bootstrap.data["error_code"] == "ParameterNotFound"
    assert "aws.state_bucket" not in facts


def test_bootstrap_names_state_bucket(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    facts = facts_of(RunContext(root=project, env=dict(aws_env), stage="production"))
    assert facts["aws.bootstrap"][0].data["bucket"] == STATE_BUCKET
    assert facts["aws.state_bucket"][0].data["exists"] is True


def test_state_bucket_missing_fires_rule(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account(create_bucket=False)
    rules = select_rules(load_rules(), "doctor", ["sst-state"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    assert [f.rule.id for f in result.findings] == ["sst-state/state-bucket-missing"]
    assert STATE_BUCKET in result.findings[0].message
    plan = result.findings[0].plan
    assert plan is not None
    assert plan.safety == "manual"


def test_state_lock_read_for_stage(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(hours=2))
    facts = facts_of(RunContext(root=project, env=dict(aws_env), stage="production"))
    lock = facts["sst.state_lock"][0]
    assert lock.data["key"] == "lock/notes/production.json"
    assert lock.data["command"] == "deploy"
    assert lock.data["age_seconds"] >= 7200


def test_state_lock_listed_without_stage(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC))
    put_lock("staging", datetime.now(UTC))
    facts = facts_of(RunContext(root=project, env=dict(aws_env)))
    assert sorted(f.data["stage"] for f in facts["sst.state_lock"]) == ["production", "staging"]


def test_no_state_lock_no_fact(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    facts = facts_of(RunContext(root=project, env=dict(aws_env), stage="production"))
    assert "sst.state_lock" not in facts


def test_read_state_lock_contract(aws_env: dict[str, str]) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(minutes=5), command="remove")
    lock = read_state_lock(boto3.session.Session(), APP, "production")
    assert lock is not None
    assert lock.command == "remove"
    assert read_state_lock(boto3.session.Session(), APP, "staging") is None


def test_fresh_lock_plans_manual_unlock_with_stage(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(minutes=5))
    rules = select_rules(load_rules(), "doctor", ["sst-state"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    assert [f.rule.id for f in result.findings] == ["sst-state/state-lock-held"]
    plan = result.findings[0].plan
    assert plan is not None
    assert plan.safety == "manual"
    argv = plan.commands[0].argv
    assert argv[-3:] == ("unlock", "--stage", "production")
    assert any("threshold" in step for step in plan.steps)


def test_stale_lock_without_local_holders_is_safe(aws_env: dict[str, str], project: Path) -> None:
    from deploykit.collectors import collectors_for

    wanted = {"process.sst", "lock.file"}
    if not wanted <= {kind for spec in collectors_for(wanted) for kind in spec.provides}:
        pytest.skip("the process and file lock collectors are not registered")
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(hours=3))
    rules = select_rules(load_rules(), "doctor", ["sst-state"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    plan = result.findings[0].plan
    assert plan is not None
    assert plan.safety == "safe", plan.steps
    assert "sst" in Path(plan.commands[0].argv[0]).name or "sst" in plan.commands[0].argv


def test_stale_lock_with_live_file_lock_is_manual(aws_env: dict[str, str], project: Path) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(hours=3))
    now = datetime.now(UTC)
    (project / ".deployment-lock-production").write_text(
        json.dumps(
            {
                "stage": "production",
                "deployer": "ci@runner",
                "pid": 1,
                "host": "another-host",
                "command": "deploy-kit deploy production",
                "createdAt": now.isoformat(),
                "expiresAt": (now + timedelta(hours=2)).isoformat(),
            }
        )
    )
    rules = select_rules(load_rules(), "doctor", ["sst-state"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    plan = result.findings[0].plan
    assert plan is not None
    assert plan.safety == "manual"


def test_bootstrap_access_denied_names_action_and_arn(aws_env: dict[str, str]) -> None:
    # moto does not enforce IAM policies by default, so this uses a recorded
    # AccessDeniedException of the real shape through botocore's Stubber.
    ssm = boto3.client("ssm", region_name="eu-central-1")
    message = (
        "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
        "ssm:GetParameter on resource: "
        "arn:aws:ssm:eu-central-1:123456789012:parameter/sst/bootstrap "
        "because no identity-based policy allows the ssm:GetParameter action"
    )
    with Stubber(ssm) as stub:
        stub.add_client_error("get_parameter", "AccessDeniedException", message, 400)
        bootstrap = read_bootstrap(ssm)
    assert bootstrap.error_code == "AccessDeniedException"
    found = aws_account.RESOURCE_IN_MESSAGE.search(bootstrap.error_message or "")
    assert found is not None
    assert found.group(1) == "arn:aws:ssm:eu-central-1:123456789012:parameter/sst/bootstrap"


def test_unknown_profile_skips_account_calls(aws_env: dict[str, str], project: Path) -> None:
    facts = facts_of(RunContext(root=project, env=dict(aws_env), profile="nowhere"))
    assert list(facts) == ["aws.skipped"]
    assert "nowhere" in facts["aws.skipped"][0].data["reason"]


def test_offline_skips_account_calls(aws_env: dict[str, str], project: Path) -> None:
    facts = facts_of(RunContext(root=project, env=dict(aws_env), offline=True))
    assert list(facts) == ["aws.skipped"]


def test_doctor_cli_reports_state_lock(
    aws_env: dict[str, str],
    project: Path,
    cli: Callable[..., object],
) -> None:
    bootstrap_account()
    put_lock("production", datetime.now(UTC) - timedelta(minutes=10))
    result = cli(
        "doctor",
        str(project),
        "--stage",
        "production",
        "--select",
        "sst-state",
        "--format",
        "json",
        env=aws_env,
    )
    assert result.returncode == 1  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    text = json.dumps(report)
    assert "sst-state/state-lock-held" in text
    assert "lock/notes/production.json" in text
    assert "--stage" in text


def test_malformed_bootstrap_value_reported(aws_env: dict[str, str], project: Path) -> None:
    boto3.client("ssm").put_parameter(Name="/sst/bootstrap", Value="not json", Type="String")
    rules = select_rules(load_rules(), "doctor", ["sst-state"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    assert [f.rule.id for f in result.findings] == ["sst-state/bootstrap-read-failed"]


def test_unreachable_endpoint_reads_as_not_checked(
    aws_env: dict[str, str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.aws_server import free_port

    # Nothing listens on this 127.0.0.1 port, so every call fails to connect.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    rules = select_rules(load_rules(), "doctor", ["sst-state", "core/could-not-check"])
    result = diagnose(RunContext(root=project, env=dict(aws_env), stage="production"), rules)
    messages = [f.message for f in result.findings if f.rule.id == "core/could-not-check"]
    assert any("SST bootstrap state" in message for message in messages)
