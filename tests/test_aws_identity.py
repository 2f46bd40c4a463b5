"""Profile, region, credentials, SSO and identity facts against the local moto server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from deploykit.collectors import aws_identity
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from engine.facts import Fact


def facts_of(context: RunContext) -> dict[str, list[Fact]]:
    found: dict[str, list[Fact]] = {}
    for fact in aws_identity.collect(context):
        found.setdefault(fact.kind, []).append(fact)
    return found


def context_for(root: Path, env: dict[str, str], **options: object) -> RunContext:
    return RunContext(root=root, env=env, **options)  # type: ignore[arg-type]


def write_profiles(env: dict[str, str], config: str, credentials: str = "") -> None:
    Path(env["AWS_CONFIG_FILE"]).write_text(config)
    Path(env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(credentials)


STATIC_PROFILE = "[profile notes-dev]\nregion = eu-west-1\n"
STATIC_KEYS = "[notes-dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n"


def test_profile_from_sst_config_for_stage(
    aws_env: dict[str, str],
    copy_project: Callable[[str], Path],
) -> None:
    root = copy_project("healthy")
    context = context_for(root, dict(aws_env), stage="production", offline=True)
    profile = facts_of(context)["aws.profile"][0]
    assert profile.data["name"] == "notes-prod"
    assert profile.data["source"] == "sst.config.ts"
    assert profile.source.file == "sst.config.ts"


def test_profile_option_wins_over_config_files(
    aws_env: dict[str, str],
    copy_project: Callable[[str], Path],
) -> None:
    root = copy_project("broken")
    context = context_for(root, dict(aws_env), profile="ops", offline=True)
    profile = facts_of(context)["aws.profile"][0]
    assert profile.data["name"] == "ops"
    assert profile.data["source"] == "--profile"


def test_profile_from_deploy_config_before_sst_config(
    aws_env: dict[str, str],
    copy_project: Callable[[str], Path],
) -> None:
    root = copy_project("healthy")
    config = json.loads((root / ".deploy-config.json").read_text())
    config["awsProfile"] = "team-profile"
    (root / ".deploy-config.json").write_text(json.dumps(config))
    profile = facts_of(context_for(root, dict(aws_env), offline=True))["aws.profile"][0]
    assert profile.data["name"] == "team-profile"
    assert profile.data["source"] == ".deploy-config.json"


def test_profile_default_chain_uses_aws_profile(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "AWS_PROFILE": "from-env"}
    profile = facts_of(context_for(tmp_path, env, offline=True))["aws.profile"][0]
    assert profile.data["name"] == "from-env"
    assert profile.data["source"] == "AWS_PROFILE"
    assert profile.data["explicit"] is False


def test_region_auto_is_invalid(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "AWS_REGION": "auto"}
    region = facts_of(context_for(tmp_path, env, offline=True))["aws.region"][0]
    assert region.data["name"] == "auto"
    assert region.data["source"] == "AWS_REGION"
    assert region.data["valid"] is False


def test_region_from_profile_when_no_variable(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    write_profiles(env, "[default]\nregion = ap-southeast-2\n")
    region = facts_of(context_for(tmp_path, env, offline=True))["aws.region"][0]
    assert region.data["name"] == "ap-southeast-2"
    assert region.data["valid"] is True


def test_region_missing_everywhere(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    region = facts_of(context_for(tmp_path, env, offline=True))["aws.region"][0]
    assert region.data["name"] is None
    assert region.data["source"] == "none"


def test_credentials_empty_variables_listed(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    credentials = facts_of(context_for(tmp_path, env, offline=True))["aws.credentials"][0]
    assert credentials.data["empty_env_vars"] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert credentials.data["present"] is False


def test_credentials_never_contain_secret_values(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret-value"}
    text = json.dumps([fact.to_dict() for fact in aws_identity.collect(context_for(tmp_path, env))])
    assert "wJalrXUtnFEMI-secret-value" not in text


def test_credentials_from_profile_keys(aws_env: dict[str, str], tmp_path: Path) -> None:
    write_profiles(aws_env, STATIC_PROFILE, STATIC_KEYS)
    context = context_for(tmp_path, dict(aws_env), profile="notes-dev", offline=True)
    credentials = facts_of(context)["aws.credentials"][0]
    assert credentials.data["present"] is True
    assert credentials.data["source"] == "profile"


def write_sso_profile(env: dict[str, str], home: Path, expires_at: str | None) -> None:
    start_url = "https://example.awsapps.com/start"
    write_profiles(
        env,
        f"[profile shop-dev]\nsso_start_url = {start_url}\nsso_region = eu-west-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Deployer\nregion = eu-west-1\n",
    )
    if expires_at is None:
        return
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    name = hashlib.sha1(start_url.encode()).hexdigest() + ".json"
    token = {
        "startUrl": start_url,
        "region": "eu-west-1",
        "accessToken": "token-value-not-shown",
        "expiresAt": expires_at,
    }
    (cache / name).write_text(json.dumps(token))


def test_sso_expired_token_reported(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_sso_profile(env, tmp_path, "2020-01-01T00:00:00Z")
    facts = facts_of(context_for(tmp_path, env, profile="shop-dev", offline=True))
    sso = facts["aws.sso"][0]
    assert sso.data["expired"] is True
    assert sso.data["cache_found"] is True
    assert sso.data["expires_at"] == "2020-01-01T00:00:00Z"
    assert "token-value-not-shown" not in json.dumps(sso.to_dict())
    assert facts["aws.credentials"][0].data["source"] == "sso"


def test_sso_valid_token_not_expired(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_sso_profile(env, tmp_path, "2999-01-01T00:00:00UTC")
    sso = facts_of(context_for(tmp_path, env, profile="shop-dev", offline=True))["aws.sso"][0]
    assert sso.data["expired"] is False


def test_sso_missing_cache_counts_as_expired(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_sso_profile(env, tmp_path, None)
    sso = facts_of(context_for(tmp_path, env, profile="shop-dev", offline=True))["aws.sso"][0]
    assert sso.data["cache_found"] is False
    assert sso.data["expired"] is True


def test_sso_expired_rule_plans_sso_login(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_sso_profile(env, tmp_path, "2020-01-01T00:00:00Z")
    rules = select_rules(load_rules(), "doctor", ["aws/sso-session-expired"])
    result = diagnose(context_for(tmp_path, env, profile="shop-dev", offline=True), rules)
    assert [finding.rule.id for finding in result.findings] == ["aws/sso-session-expired"]
    plan = result.findings[0].plan
    assert plan is not None
    assert plan.safety == "manual"
    assert plan.commands[0].argv == ("aws", "sso", "login", "--profile", "shop-dev")


def test_identity_from_moto(aws_env: dict[str, str], tmp_path: Path) -> None:
    identity = facts_of(context_for(tmp_path, dict(aws_env)))["aws.identity"][0]
    assert identity.data["account"] == "123456789012"
    assert identity.source.api == "sts:GetCallerIdentity"


def test_identity_error_for_unknown_profile(aws_env: dict[str, str], tmp_path: Path) -> None:
    facts = facts_of(context_for(tmp_path, dict(aws_env), profile="nowhere"))
    assert facts["aws.identity_error"][0].data["code"] == "ProfileNotFound"
    assert facts["aws.profile"][0].data["exists_in_config"] is False


def test_offline_skips_identity_call(aws_env: dict[str, str], tmp_path: Path) -> None:
    facts = facts_of(context_for(tmp_path, dict(aws_env), offline=True))
    assert "aws.identity" not in facts
    assert facts["aws.skipped"][0].data["reason"] == "offline"


@pytest.mark.parametrize(
    ("env_update", "rule_id"),
    [
        ({"AWS_REGION": "auto"}, "aws/region-invalid"),
        ({"AWS_ACCESS_KEY_ID": ""}, "aws/empty-credential-variables"),
    ],
)
def test_aws_rules_fire_on_collected_facts(
    aws_env: dict[str, str],
    tmp_path: Path,
    env_update: dict[str, str],
    rule_id: str,
) -> None:
    env = {**aws_env, **env_update}
    rules = select_rules(load_rules(), "doctor", ["aws"])
    result = diagnose(context_for(tmp_path, env, offline=True), rules)
    assert rule_id in [finding.rule.id for finding in result.findings]


def test_doctor_cli_select_aws_clean(
    aws_env: dict[str, str],
    copy_project: Callable[[str], Path],
    cli: Callable[..., object],
) -> None:
    root = copy_project("healthy")
    write_profiles(aws_env, STATIC_PROFILE, STATIC_KEYS)
    result = cli("doctor", str(root), "--select", "aws", "--format", "json", env=aws_env)
    assert result.returncode == 0, result.stdout + result.stderr  # type: ignore[attr-defined]


def test_doctor_cli_select_aws_missing_profile(
    aws_env: dict[str, str],
    copy_project: Callable[[str], Path],
    cli: Callable[..., object],
) -> None:
    root = copy_project("healthy")
    result = cli("doctor", str(root), "--select", "aws", "--format", "json", env=aws_env)
    assert result.returncode == 1  # type: ignore[attr-defined]
    assert "aws/profile-not-found" in result.stdout  # type: ignore[attr-defined]
    assert "notes-dev" in result.stdout  # type: ignore[attr-defined]


def test_sso_session_section_token_found(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_profiles(
        env,
        "[profile team]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Deployer\nregion = eu-west-1\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = eu-west-1\n",
    )
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    name = hashlib.sha1(b"corp").hexdigest() + ".json"
    (cache / name).write_text(json.dumps({"accessToken": "x", "expiresAt": "2999-01-01T00:00:00Z"}))
    sso = facts_of(context_for(tmp_path, env, profile="team", offline=True))["aws.sso"][0]
    assert sso.data["sso_session"] == "corp"
    assert sso.data["start_url"] == "https://corp.awsapps.com/start"
    assert sso.data["cache_found"] is True
    assert sso.data["expired"] is False


def test_sso_refreshable_token_not_expired(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "HOME": str(tmp_path)}
    write_sso_profile(env, tmp_path, "2020-01-01T00:00:00Z")
    cache_file = next((tmp_path / ".aws" / "sso" / "cache").iterdir())
    token = json.loads(cache_file.read_text())
    token.update({"refreshToken": "r", "registrationExpiresAt": "2999-01-01T00:00:00Z"})
    cache_file.write_text(json.dumps(token))
    sso = facts_of(context_for(tmp_path, env, profile="shop-dev", offline=True))["aws.sso"][0]
    assert sso.data["expired"] is False


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("eu-west-1", True),
        ("us-gov-west-1", True),
        ("cn-north-1", True),
        ("auto", False),
        ("", False),
        ("eu-wst-1", False),
    ],
)
def test_region_validity(name: str, valid: bool) -> None:
    from deploykit.aws.session import region_is_valid

    assert region_is_valid(name) is valid
