"""Collectors: each gathers facts of a few kinds from the project, machine or AWS.

`CATALOG` maps each collector to the fact kinds it provides and its code, as
`module:function` so that only the collectors a run needs are imported. A
collector function takes a `RunContext` and returns an iterable of `Fact`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deploykit.context import RunContext
from engine.facts import Fact

CollectorFunction = Callable[[RunContext], Iterable[Fact]]


@dataclass(frozen=True)
class CollectorSpec:
    name: str
    provides: frozenset[str]
    target: str
    timeout: float = 10.0
    description: str = ""

    def load(self) -> CollectorFunction:
        module_name, _, attribute = self.target.partition(":")
        function: CollectorFunction = getattr(importlib.import_module(module_name), attribute)
        return function


def _spec(
    name: str, provides: Iterable[str], target: str, timeout: float = 10.0, description: str = ""
) -> CollectorSpec:
    return CollectorSpec(name, frozenset(provides), target, timeout, description)


CATALOG: tuple[CollectorSpec, ...] = (
    _spec(
        "run", ["run.context"], "deploykit.collectors.run:collect", 1.0, "the run's own settings"
    ),
    _spec("git", ["git.repo"], "deploykit.collectors.git:collect", 10.0, "the git repository"),
    _spec(
        "package",
        ["package.manifest", "package.script", "package.manager", "package.json_error"],
        "deploykit.collectors.package:collect",
        5.0,
        "package.json files and lockfiles",
    ),
    _spec(
        "versions",
        ["node.version", "sst.version", "next.package"],
        "deploykit.collectors.versions:collect",
        10.0,
        "Node.js, SST and Next.js versions",
    ),
    _spec(
        "envfiles",
        ["env.file_var", "env.process_var"],
        "deploykit.collectors.envfiles:collect",
        5.0,
        ".env files and AWS environment variables",
    ),
    _spec(
        "deploy_config",
        ["deploy.config", "deploy.stage_config", "deploy.config_problem"],
        "deploykit.collectors.deploy_config:collect",
        5.0,
        ".deploy-config.json",
    ),
    _spec(
        "logs",
        ["log.line", "log.source", "deploy.failure"],
        "deploykit.collectors.logs:collect",
        300.0,
        "the log",
    ),
    _spec(
        "sst_config",
        [
            "sst.config",
            "sst.syntax_error",
            "sst.app_key",
            "sst.provider",
            "sst.component",
            "sst.env_var",
            "sst.output_misuse",
            "sst.dynamo",
            "sst.domain",
            "sst.stage_branch",
        ],
        "deploykit.collectors.sst_config:collect",
        10.0,
        "sst.config.ts",
    ),
    _spec(
        "next_config",
        ["next.config", "next.syntax_error", "next.experimental"],
        "deploykit.collectors.next_config:collect",
        10.0,
        "next.config",
    ),
    _spec(
        "aws_identity",
        [
            "aws.profile",
            "aws.region",
            "aws.credentials",
            "aws.sso",
            "aws.identity",
            "aws.identity_error",
            "aws.skipped",
        ],
        "deploykit.collectors.aws_identity:collect",
        20.0,
        "AWS credentials and identity",
    ),
    _spec(
        "aws_account",
        ["aws.bootstrap", "aws.state_bucket", "sst.state_lock", "aws.skipped"],
        "deploykit.collectors.aws_account:collect",
        30.0,
        "SST bootstrap state in the AWS account",
    ),
    _spec(
        "aws_edge",
        [
            "acm.certificate",
            "acm.search",
            "cloudfront.distribution",
            "cloudfront.origin",
            "s3.bucket_policy",
            "aws.skipped",
        ],
        "deploykit.collectors.aws_edge:collect",
        45.0,
        "certificates and CloudFront in the AWS account",
    ),
    _spec(
        "ports",
        ["dev.port", "port.listener"],
        "deploykit.collectors.ports:collect",
        10.0,
        "the dev server port",
    ),
    _spec(
        "processes",
        ["process.sst", "process.next", "process.scan"],
        "deploykit.collectors.processes:collect",
        10.0,
        "running SST and Next.js processes",
    ),
    _spec(
        "sst_health",
        ["sst.dir", "sst.nested_dir", "sst.local_lock"],
        "deploykit.collectors.sst_health:collect",
        10.0,
        "the .sst folder",
    ),
    _spec(
        "locks",
        ["lock.file", "lock.file_invalid"],
        "deploykit.collectors.locks:collect",
        5.0,
        "deployment lock files",
    ),
)


def collectors_for(kinds: Iterable[str]) -> list[CollectorSpec]:
    """Return the collectors that provide at least one of `kinds`."""
    wanted = set(kinds)
    return [spec for spec in CATALOG if spec.provides & wanted]
