"""AWS profile, region, credentials, SSO session and caller identity.

Facts (no fact ever holds a secret value):

- `aws.profile` {name, source, explicit, exists_in_config, sso}: the profile the
  run uses (`name` is `default` when nothing names one); `source` is
  `--profile`, `.deploy-config.json`, `sst.config.ts`, `AWS_PROFILE`,
  `AWS_DEFAULT_PROFILE` or `default`; `exists_in_config` is true when the AWS
  config or credentials file defines it.
- `aws.region` {name, source, valid}: `name` is None when nothing sets a
  region; `valid` is false for an empty or unknown region such as `auto`.
- `aws.credentials` {present, source, profile, empty_env_vars}: where
  credentials would come from (`env`, `profile`, `sso`, `process`,
  `assume-role`, `web-identity`, `container` or `none`), found by reading the
  environment and the AWS files without any call; `empty_env_vars` lists
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN set to "".
- `aws.sso` {profile, start_url, sso_session, cache_file, cache_found,
  expires_at, expired}: only for SSO profiles.
- `aws.identity` {account, arn, profile} from `sts:GetCallerIdentity`, or
  `aws.identity_error` {code, message, profile} when that call fails.
- `aws.skipped` {reason, check}: with `--offline`, instead of the STS call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from deploykit.aws.session import (
    DEFAULT_PROFILE,
    AwsConfigFiles,
    AwsRun,
    Resolved,
    aws_run,
    region_is_valid,
)
from deploykit.context import RunContext
from engine.facts import Fact, Source

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def collect(context: RunContext) -> Iterable[Fact]:
    run = aws_run(context)
    profile_name = run.profile.value or DEFAULT_PROFILE

    yield Fact(
        "aws.profile",
        {
            "name": profile_name,
            "source": run.profile.source,
            "explicit": run.profile.explicit,
            "exists_in_config": run.files.has_profile(profile_name),
            "sso": run.files.is_sso(profile_name),
        },
        setting_source(run.profile, run, "AWS_PROFILE"),
    )
    yield Fact(
        "aws.region",
        {
            "name": run.region.value,
            "source": run.region.source,
            "valid": region_is_valid(run.region.value),
        },
        setting_source(run.region, run, "AWS_REGION"),
    )

    present, source = credential_source(run.files, run.profile, context.env)
    empty = [
        name for name in CREDENTIAL_VARIABLES
        if name in context.env and not context.env[name].strip()
    ]
    yield Fact(
        "aws.credentials",
        {"present": present, "source": source, "profile": profile_name, "empty_env_vars": empty},
        Source(file=_display(run.files.credentials_path)) if source == "profile"
        else Source(command="printenv " + " ".join(CREDENTIAL_VARIABLES)),
    )

    from deploykit.aws.sso import sso_status

    status = sso_status(run.files, profile_name, dict(context.env))
    if status is not None:
        yield Fact(
            "aws.sso",
            {
                "profile": status.profile,
                "start_url": status.start_url,
                "sso_session": status.sso_session,
                "cache_file": status.cache_file,
                "cache_found": status.cache_found,
                "expires_at": status.expires_at,
                "expired": status.expired,
            },
            Source(file=status.cache_file),
        )

    if context.offline:
        yield Fact("aws.skipped", {"reason": "offline", "check": "caller identity"},
                   Source(api="sts:GetCallerIdentity"))
        return
    yield identity_fact(run, profile_name)


def identity_fact(run: AwsRun, profile_name: str) -> Fact:
    """Call `sts:GetCallerIdentity`; a failure becomes an `aws.identity_error` fact."""
    from botocore.exceptions import BotoCoreError, ClientError

    from deploykit.aws import error_code, error_message

    source = Source(api="sts:GetCallerIdentity")
    try:
        identity = run.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        return Fact(
            "aws.identity_error",
            {"code": error_code(error), "message": error_message(error), "profile": profile_name},
            source,
        )
    return Fact(
        "aws.identity",
        {"account": identity.get("Account"), "arn": identity.get("Arn"), "profile": profile_name},
        source,
    )


def credential_source(
    files: AwsConfigFiles, profile: Resolved, env: Mapping[str, str],
) -> tuple[bool, str]:
    """Return (present, source) following the order of the botocore credential chain.

    Access keys in the environment come first unless a profile is named
    explicitly. An EC2 instance role cannot be seen without a call, so a
    machine that relies on one reads as `none` here.
    """
    if not profile.explicit and all(env.get(name, "").strip() for name in CREDENTIAL_VARIABLES[:2]):
        return True, "env"

    name = profile.value or DEFAULT_PROFILE
    settings = files.profile(name)
    if files.is_sso(name):
        return True, "sso"
    if settings.get("credential_process"):
        return True, "process"
    if settings.get("role_arn"):
        return True, "assume-role"
    keys = set(files.credential_keys.get(name, frozenset()))
    keys |= {key for key, value in settings.items() if value.strip()}
    if {"aws_access_key_id", "aws_secret_access_key"} <= keys:
        return True, "profile"
    if settings.get("web_identity_token_file") or env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return True, "web-identity"
    container = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if any(env.get(name) for name in container):
        return True, "container"
    return False, "none"


def setting_source(resolved: Resolved, run: AwsRun, variable: str) -> Source:
    """Return where a resolved profile or region was set, for the finding's evidence."""
    if resolved.source == "sst.config.ts":
        return Source(file=run.project.sst_config_file or "sst.config.ts", line=resolved.line)
    if resolved.source == ".deploy-config.json":
        return Source(file=".deploy-config.json")
    if resolved.source.startswith("AWS_"):
        return Source(command=f"printenv {resolved.source}")
    if resolved.source == "--profile":
        return Source(command=f"deploy-kit --profile {resolved.value}")
    if resolved.source.startswith("profile "):
        return Source(file=_display(run.files.config_path))
    return Source(command=f"printenv {variable}")


def _display(path: object) -> str:
    """Show a path under the home folder as `~/...`."""
    from pathlib import Path

    text = str(path)
    home = str(Path.home())
    return "~" + text[len(home):] if text.startswith(home + "/") else text
