"""Deploy stages that call AWS (CloudFront, the DynamoDB lock), against the moto server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.fakesst import fake_sst_env, read_records
from tests.fakesst.projects import prepare_healthy_project, write_aws_profiles

LOCK_TABLE = "deploy-locks"


def _session(region: str = "us-east-1") -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def _create_distribution(tags: dict[str, str]) -> str:
    client = _session().client("cloudfront")
    config = {
        "CallerReference": "notes-staging",
        "Comment": "notes staging",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    # A server function origin: S3 origins bring OAC checks into play.
                    "Id": "server",
                    "DomainName": "abc123.lambda-url.eu-west-1.on.aws",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "server",
            "ViewerProtocolPolicy": "redirect-to-https",
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
    }
    response = client.create_distribution_with_tags(
        DistributionConfigWithTags={
            "DistributionConfig": config,
            "Tags": {"Items": [{"Key": key, "Value": value} for key, value in tags.items()]},
        }
    )
    return str(response["Distribution"]["Id"])


def _invalidation_paths(distribution_id: str) -> list[list[str]]:
    client = _session().client("cloudfront")
    summaries = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    paths = []
    for summary in summaries.get("Items", []):
        detail = client.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
        paths.append(detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
    return paths


def _transcript(tmp_path: Path, outputs: dict[str, str]) -> Path:
    path = tmp_path / "deploy-with-outputs.txt"
    path.write_text(f"exit: 0\noutputs: {json.dumps(outputs)}\n---\n✓  Complete\n")
    return path


def _deploy(
    root: Path,
    record: Path,
    transcript: str,
    *args: str,
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "deploy",
        "staging",
        "-C",
        str(root),
        *args,
        env=fake_sst_env(record, transcript),
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path, aws_env: dict[str, str]) -> Path:
    root = prepare_healthy_project(
        tmp_path / "notes",
        {
            "preDeploymentChecks": [],
            "healthChecks": [],
        },
    )
    write_aws_profiles(aws_env)
    return root


def test_deploy_invalidates_distribution_tagged_for_stage(
    project: Path,
    tmp_path: Path,
) -> None:
    distribution_id = _create_distribution({"sst:app": "notes", "sst:stage": "staging"})
    transcript = _transcript(tmp_path, {"web": "https://staging.notes.example.com"})

    result = _deploy(project, tmp_path / "record.jsonl", str(transcript))

    assert result.returncode == 0, result.stdout + result.stderr
    assert _invalidation_paths(distribution_id) == [["/*"]]


def test_deploy_invalidates_distribution_from_outputs(project: Path, tmp_path: Path) -> None:
    distribution_id = _create_distribution({})
    transcript = _transcript(tmp_path, {"distributionId": distribution_id})

    result = _deploy(project, tmp_path / "record.jsonl", str(transcript), "--wait")

    assert result.returncode == 0, result.stdout + result.stderr
    assert _invalidation_paths(distribution_id) == [["/*"]]
    assert f"of /* on {distribution_id} completed" in result.stdout


def test_deploy_skips_invalidation_without_distribution(project: Path, tmp_path: Path) -> None:
    other = _create_distribution({"sst:app": "shop", "sst:stage": "staging"})
    transcript = _transcript(tmp_path, {"web": "https://staging.notes.example.com"})

    result = _deploy(project, tmp_path / "record.jsonl", str(transcript))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no CloudFront distribution found" in result.stdout
    assert _invalidation_paths(other) == []


def test_deploy_honours_skip_cache_invalidation(project: Path, tmp_path: Path) -> None:
    distribution_id = _create_distribution({"sst:app": "notes", "sst:stage": "staging"})
    config_path = project / ".deploy-config.json"
    config = json.loads(config_path.read_text())
    config["stageConfig"]["staging"]["skipCacheInvalidation"] = True
    config_path.write_text(json.dumps(config))
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=dev@example.com",
            "-c",
            "user.name=Dev",
            "commit",
            "-qam",
            "Skip",
        ],
        cwd=project,
        check=True,
    )

    result = _deploy(project, tmp_path / "record.jsonl", "deploy-success")

    assert result.returncode == 0, result.stdout + result.stderr
    assert _invalidation_paths(distribution_id) == []


def test_deploy_holds_dynamodb_lock_while_deploying(
    tmp_path: Path, aws_env: dict[str, str]
) -> None:
    from deploykit.locks.dynamodb import create_lock_table

    create_lock_table(_session("eu-west-1"), LOCK_TABLE)
    seen = tmp_path / "lock-items.json"
    # The preDeploy hook runs while the lock is held and saves the table's items.
    scan = (
        f'{sys.executable} -c "import boto3, json; '
        "client = boto3.client('dynamodb', region_name='eu-west-1'); "
        f"items = client.scan(TableName='{LOCK_TABLE}')['Items']; "
        f"open('{seen}', 'w').write(json.dumps(items))\""
    )
    root = prepare_healthy_project(
        tmp_path / "notes",
        {
            "preDeploymentChecks": [],
            "healthChecks": [],
            "lock": {"backend": "dynamodb", "table": LOCK_TABLE},
            "hooks": {"preDeploy": scan},
            "stageConfig": {"staging": {"skipCacheInvalidation": True}},
        },
    )
    write_aws_profiles(aws_env)

    result = _deploy(root, tmp_path / "record.jsonl", "deploy-success")

    assert result.returncode == 0, result.stdout + result.stderr
    [item] = json.loads(seen.read_text())
    assert item["lockId"]["S"] == "notes#staging"
    remaining = _session().client("dynamodb", region_name="eu-west-1").scan(TableName=LOCK_TABLE)
    assert remaining["Items"] == []
    assert len(read_records(tmp_path / "record.jsonl", "run")) == 1
    assert not (root / ".deployment-lock-staging").exists()


def test_deploy_missing_lock_table_is_input_error(tmp_path: Path, aws_env: dict[str, str]) -> None:
    root = prepare_healthy_project(
        tmp_path / "notes",
        {
            "preDeploymentChecks": [],
            "healthChecks": [],
            "lock": {"backend": "dynamodb", "table": "absent"},
        },
    )
    write_aws_profiles(aws_env)

    result = _deploy(root, tmp_path / "record.jsonl", "deploy-success")

    assert result.returncode == 2
    assert "DynamoDB table 'absent'" in result.stderr
    assert read_records(tmp_path / "record.jsonl", "run") == []
