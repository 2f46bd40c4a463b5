"""Facts from `.deploy-config.json`: the settings rules test, and every invalid setting.

`deploy.config` (one fact; source: the file):

- `present` (bool): the file exists. When false, no other field is set.
- `valid` (bool): it parsed and has no problems.
- `project_name`, `aws_profile`, `main_domain` (str | None).
- `stages` (list[str]): the configured stages.
- `require_clean_git` (bool): true unless the file sets `requireCleanGit: false`.
- `lock_backend` (`file` | `dynamodb`), `rule_paths` (list[str]).

`deploy.stage_config` (one per configured stage; source: the line of the
stage in `stages`): `stage`, `domain`, `requires_confirmation`,
`skip_cache_invalidation`, `aws_profile` (the stage's, else the project's),
`branch` (the git branch the stage deploys from, or None).

`deploy.config_problem` (one per problem; source: the file and the line of the
offending key): `path` (such as `healthChecks[0].expectedStatus`, empty for a
syntax error), `where` (the path, or `line L, column C` for a syntax error),
`message`, `file`; a syntax error also sets `column`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from deploykit.config import CONFIG_NAME, DeployConfig, validate_deploy_config
from deploykit.context import RunContext
from deploykit.jsonspans import JsonPath, JsonSpanError, Span, json_spans
from engine.facts import Fact, Source


def collect(context: RunContext) -> Iterable[Fact]:
    return list(config_facts(context.root))


def config_facts(root: Path) -> Iterator[Fact]:
    path = root / CONFIG_NAME
    source = Source(file=CONFIG_NAME)
    if not path.is_file():
        yield Fact("deploy.config", {"present": False}, source)
        return

    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        yield _syntax_problem(f"cannot read the file: {error}", 1, 1)
        yield Fact("deploy.config", {"present": True, "valid": False}, source)
        return
    except json.JSONDecodeError as error:
        yield _syntax_problem(f"invalid JSON: {error.msg}", error.lineno, error.colno)
        yield Fact("deploy.config", {"present": True, "valid": False}, source)
        return

    try:
        spans = json_spans(text)
    except JsonSpanError:
        spans = {}
    problems = validate_deploy_config(data)
    for problem in problems:
        yield Fact(
            "deploy.config_problem",
            {
                "path": problem.path, "where": problem.path, "message": problem.message,
                "file": CONFIG_NAME,
            },
            Source(file=CONFIG_NAME, line=_line(spans, problem.location)),
        )
    if not isinstance(data, dict):
        yield Fact("deploy.config", {"present": True, "valid": False}, source)
        return

    config = DeployConfig(raw=data, path=path, text=text)
    yield Fact("deploy.config", {
        "present": True,
        "valid": not problems,
        "project_name": config.project_name,
        "aws_profile": config.aws_profile,
        "main_domain": config.main_domain,
        "stages": config.stages,
        "require_clean_git": config.require_clean_git,
        "lock_backend": config.lock["backend"],
        "rule_paths": config.rule_paths,
    }, source)
    for position, stage in _configured_stages(data):
        settings = config.stage_config(stage)
        yield Fact("deploy.stage_config", {
            "stage": stage,
            "domain": settings.domain,
            "requires_confirmation": settings.requires_confirmation,
            "skip_cache_invalidation": settings.skip_cache_invalidation,
            "aws_profile": settings.aws_profile,
            "branch": settings.branch,
        }, Source(file=CONFIG_NAME, line=_line(spans, ("stages", position))))


def _configured_stages(data: dict[str, object]) -> list[tuple[int, str]]:
    stages = data.get("stages")
    if not isinstance(stages, list):
        return []
    return [(position, stage) for position, stage in enumerate(stages) if isinstance(stage, str)]


def _line(spans: dict[JsonPath, Span], location: JsonPath) -> int | None:
    # A missing key has no span: point at its parent, the nearest place that exists.
    while location:
        span = spans.get(location)
        if span is not None:
            return span.line
        location = location[:-1]
    return 1


def _syntax_problem(message: str, line: int, column: int) -> Fact:
    return Fact(
        "deploy.config_problem",
        {"path": "", "where": f"line {line}, column {column}", "message": message,
         "file": CONFIG_NAME, "column": column},
        Source(file=CONFIG_NAME, line=line),
    )
