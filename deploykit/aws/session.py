"""Resolve the AWS profile and region a run uses, and make its one boto3 session.

Profile order: `--profile`, `awsProfile` in `.deploy-config.json` (the stage's
`stageConfig.STAGE.awsProfile` first), `providers.aws.profile` in sst.config.ts
for the stage, then the default chain (`AWS_PROFILE`, else the `default`
profile). Region order: the run context, `providers.aws.region` in
sst.config.ts, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`
in the AWS config file. SST passes a profile or region found in sst.config.ts
to the AWS SDK explicitly, so both win over the environment, as here.
"""

from __future__ import annotations

import configparser
import functools
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deploykit.context import RunContext
from deploykit.errors import DeployKitError

log = logging.getLogger(__name__)

# Sources that name a profile on purpose: boto3 gets it as `profile_name`.
EXPLICIT_PROFILE_SOURCES = frozenset(
    {"--profile", ".deploy-config.json", "sst.config.ts"}
)
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Resolved:
    """A resolved setting: its value (None when nothing set it) and what set it."""

    value: str | None
    source: str
    line: int | None = None

    @property
    def explicit(self) -> bool:
        return self.source in EXPLICIT_PROFILE_SOURCES


@dataclass(frozen=True)
class AwsConfigFiles:
    """The shared AWS config and credentials files, without any secret value.

    `profiles` contains the settings of each `[profile NAME]` (and `[default]`)
    section of the config file. `credential_keys` contains, per profile of the
    credentials file, the names of the keys whose value is not empty.
    """

    config_path: Path
    credentials_path: Path
    profiles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sso_sessions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    credential_keys: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def has_profile(self, name: str) -> bool:
        return name in self.profiles or name in self.credential_keys

    def profile(self, name: str) -> Mapping[str, str]:
        return self.profiles.get(name, {})

    def is_sso(self, name: str) -> bool:
        settings = self.profile(name)
        return "sso_start_url" in settings or "sso_session" in settings


@dataclass(frozen=True)
class ProjectAws:
    """The project's AWS settings: its deploy config, SST config, app and stage."""

    config: Any | None = None
    sst_config: Any | None = None
    sst_config_file: str | None = None
    app: str | None = None
    stage: str | None = None
    stage_source: str = "none"


def home_folder(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def read_aws_config(env: Mapping[str, str]) -> AwsConfigFiles:
    """Read `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` (default under ~/.aws)."""
    home = home_folder(env)
    config_path = Path(env.get("AWS_CONFIG_FILE") or home / ".aws" / "config").expanduser()
    credentials_path = Path(
        env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials"
    ).expanduser()

    profiles: dict[str, dict[str, str]] = {}
    sso_sessions: dict[str, dict[str, str]] = {}
    for section, values in _read_ini(config_path).items():
        if section == DEFAULT_PROFILE:
            profiles[DEFAULT_PROFILE] = values
        elif section.startswith("profile "):
            profiles[section.removeprefix("profile ").strip()] = values
        elif section.startswith("sso-session "):
            sso_sessions[section.removeprefix("sso-session ").strip()] = values

    credential_keys = {
        section: frozenset(key for key, value in values.items() if value.strip())
        for section, values in _read_ini(credentials_path).items()
    }
    return AwsConfigFiles(config_path, credentials_path, profiles, sso_sessions, credential_keys)


def _read_ini(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        log.warning("cannot parse AWS file %s: %s", path, error)
        return {}
    return {section: dict(parser.items(section)) for section in parser.sections()}


def resolve_profile(context: RunContext, config: Any | None, sst_config: Any | None) -> Resolved:
    """Return the profile the run uses and what chose it (see the module docstring)."""
    if context.profile:
        return Resolved(context.profile, "--profile")

    if config is not None:
        stage_profile = _stage_setting(config, context.stage, "aws_profile")
        if stage_profile:
            return Resolved(stage_profile, ".deploy-config.json")
        if getattr(config, "aws_profile", None):
            return Resolved(str(config.aws_profile), ".deploy-config.json")

    provider = _aws_provider(sst_config, context.stage)
    if provider is not None and getattr(provider, "profile", None):
        return Resolved(str(provider.profile), "sst.config.ts", getattr(provider, "line", None))

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if context.env.get(name):
            return Resolved(context.env[name], name)
    return Resolved(None, "default")


def resolve_region(
    context: RunContext, config: Any | None, sst_config: Any | None,
    profile: Resolved | None = None, files: AwsConfigFiles | None = None,
) -> Resolved:
    """Return the region the run uses and what chose it (see the module docstring).

    An empty variable counts as unset, as in the AWS SDKs. A value such as
    `auto` is returned as it is, so that a rule can report it as invalid.
    """
    if context.region:
        return Resolved(context.region, "run context")

    provider = _aws_provider(sst_config, context.stage)
    if provider is not None and getattr(provider, "region", None):
        return Resolved(str(provider.region), "sst.config.ts", getattr(provider, "line", None))

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if context.env.get(name, "").strip():
            return Resolved(context.env[name].strip(), name)

    files = files or read_aws_config(context.env)
    profile = profile or resolve_profile(context, config, sst_config)
    profile_name = profile.value or DEFAULT_PROFILE
    region = files.profile(profile_name).get("region", "").strip()
    if region:
        return Resolved(region, f"profile {profile_name} in {files.config_path.name}")
    return Resolved(None, "none")


def _stage_setting(config: Any, stage: str | None, name: str) -> str | None:
    if not stage or not hasattr(config, "stage_config"):
        return None
    try:
        stage_config = config.stage_config(stage)
    except (KeyError, DeployKitError):
        return None
    value = getattr(stage_config, name, None)
    return str(value) if value else None


def _aws_provider(sst_config: Any | None, stage: str | None) -> Any | None:
    if sst_config is None or not hasattr(sst_config, "aws_provider"):
        return None
    return sst_config.aws_provider(stage)


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Return every region in botocore's endpoint data (all partitions)."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    regions: set[str] = set()
    for partition in data.get("partitions", []):
        regions.update(partition.get("regions", {}))
    return frozenset(regions)


def region_is_valid(name: str | None) -> bool:
    """Tell whether `name` is a region in the installed botocore's endpoint data.

    NOTE: a region AWS opened after this botocore release reads as invalid;
    upgrading boto3 fixes that.
    """
    return bool(name) and name in known_regions()


def make_session(profile: str | None, region: str | None) -> Any:
    """Return a boto3 session; `AWS_ENDPOINT_URL` is honoured by boto3 itself."""
    import boto3

    return boto3.session.Session(profile_name=profile or None, region_name=region or None)


def load_project(context: RunContext) -> ProjectAws:
    """Load the deploy config, SST config, app name and stage, where they exist.

    The deploy config and SST config are optional: a malformed file is reported
    by the project's own rules, so here it only means "not known".
    """
    from deploykit.layout import find_layout

    config = _load_deploy_config(context.root)
    layout = find_layout(context.root)
    sst_config = None
    sst_config_file = None
    if layout.sst_config is not None:
        sst_config_file = layout.relative(layout.sst_config)
        sst_config = _parse_sst_config(layout.sst_config)

    app = getattr(sst_config, "app_name", None) if sst_config is not None else None
    stage = context.stage
    stage_source = "--stage" if stage else "none"
    if not stage:
        # SST's default stage for this machine is stored in `.sst/stage`.
        stage_file = layout.sst_dir / ".sst" / "stage"
        try:
            stage = stage_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            stage = None
        if stage:
            stage_source = ".sst/stage"
    return ProjectAws(config, sst_config, sst_config_file, app, stage, stage_source)


def _load_deploy_config(root: Path) -> Any | None:
    try:
        from deploykit.config import load_deploy_config
    except ImportError:
        return None
    try:
        return load_deploy_config(root)
    except DeployKitError as error:
        log.info("ignoring .deploy-config.json for AWS settings: %s", error)
        return None


def _parse_sst_config(path: Path) -> Any | None:
    try:
        from deploykit.sstconfig import parse_sst_config
    except ImportError:
        return None
    try:
        return parse_sst_config(path)
    except (DeployKitError, OSError, ValueError) as error:
        log.info("ignoring %s for AWS settings: %s", path.name, error)
        return None


@dataclass
class AwsRun:
    """The AWS settings of one run and its single boto3 session.

    Collectors run in threads; boto3 sessions are not thread-safe, so clients
    are created under a lock (the clients themselves are thread-safe).
    """

    project: ProjectAws
    files: AwsConfigFiles
    profile: Resolved
    region: Resolved
    _session: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                # A profile from AWS_PROFILE is left to botocore, which then still
                # prefers access keys in the environment, as the AWS SDK in SST does.
                profile = self.profile.value if self.profile.explicit else None
                region = self.region.value if region_is_valid(self.region.value) else None
                self._session = make_session(profile, region)
            return self._session

    @property
    def effective_region(self) -> str:
        """The region calls go to: the resolved one if valid, else us-east-1 as in SST."""
        value = self.region.value
        return value if value and region_is_valid(value) else "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        """Return a client in `region` (default: the effective region)."""
        from botocore.config import Config

        session = self.session()
        settings = Config(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"}
        )
        with self._lock:
            return session.client(
                service, region_name=region or self.effective_region, config=settings
            )


_RUNS: dict[int, tuple[RunContext, AwsRun]] = {}
_RUNS_LOCK = threading.Lock()


def aws_run(context: RunContext) -> AwsRun:
    """Return the `AwsRun` of `context`, built once and shared by its collectors."""
    with _RUNS_LOCK:
        cached = _RUNS.get(id(context))
        if cached is not None and cached[0] is context:
            return cached[1]
        project = load_project(context)
        staged = replace(context, stage=project.stage)
        files = read_aws_config(context.env)
        profile = resolve_profile(staged, project.config, project.sst_config)
        region = resolve_region(staged, project.config, project.sst_config, profile, files)
        run = AwsRun(project, files, profile, region)
        _RUNS[id(context)] = (context, run)
        return run
