"""Facts read from sst.config.ts (found with `deploykit.layout`), through tree-sitter.

Every fact's source is the config file (relative to the project root) and line.

- `sst.config` {path, has_reference, reference_path, app_name, home, app_found}:
  the file itself; `has_reference` is the `/// <reference path=...>` line that
  gives editors SST's types.
- `sst.syntax_error` {path, line, column, message}: tree-sitter could not parse
  the file; the other facts are still read from the parts that did parse.
- `sst.app_key` {key, line, known}: each key of the object app() returns;
  `known` is false for keys SST ignores, such as `provider`.
- `sst.provider` {name, stage, stage_label, profile, region, profile_expression,
  region_expression, region_known, dynamic, line}: each entry of `providers`.
  For `aws`, one fact per stage named in a comparison inside its profile or
  region (`input.stage === "production" ? ...`), plus one with `stage: null`
  for every other stage. `profile`/`region` are the evaluated strings or null;
  `*_expression` is the source text when the value cannot be evaluated;
  `region_known` says whether botocore knows the region; `dynamic` is true
  when a value depends on the stage or cannot be evaluated.
- `sst.component` {type, namespace, name, line, variable, links}: each
  `new sst.aws.X("Name", {...})`; `links` is the source text of `link` items.
- `sst.env_var` {component, component_type, name, line, value_kind,
  runs_on_lambda}: each key of a component's `environment`; value_kind is
  literal, template, output, interpolate, apply, variable or expression.
- `sst.output_misuse` {component, key, line, expression, suggestion, outputs}:
  a template literal or `+` that turns an Output (such as `api.url`) into a
  plain string; `suggestion` is the `$interpolate` replacement.
- `sst.dynamo` {name, line, fields, indexed, unindexed, static}: a Dynamo
  table; `unindexed` lists `fields` no index uses, and is empty unless
  `static` (every field and index key is a literal).
- `sst.domain` {component, component_type, name, name_expression, aliases,
  redirects, dns, cert, cert_region, cloudfront, line}: a component's
  `domain`; `name` and `cert` are null when they depend on the stage.
- `sst.stage_branch` {stage, operator, line}: each comparison of the stage
  with a string, such as `$app.stage === "production"`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from deploykit.context import RunContext
from deploykit.layout import find_layout
from engine.facts import Fact, Source

if TYPE_CHECKING:
    from tree_sitter import Node

    from deploykit.sstconfig import SstConfig

Locate = Callable[[int | None], Source]


def collect(context: RunContext) -> Iterable[Fact]:
    from deploykit.sstconfig import parse_sst_config

    layout = find_layout(context.root)
    if layout.sst_config is None:
        return []
    relative = layout.relative(layout.sst_config)
    config = parse_sst_config(layout.sst_config)
    return list(_facts(config, relative))


def _facts(config: SstConfig, relative: str) -> Iterator[Fact]:
    from deploykit import sstconfig, tsparse

    def at(line: int | None) -> Source:
        return Source(file=relative, line=line)

    yield Fact("sst.config", {
        "path": relative,
        "has_reference": config.has_reference,
        "reference_path": config.reference_path,
        "app_name": config.app_name,
        "home": config.home,
        "app_found": config.app_object is not None,
    }, at(1))

    problem = config.syntax_problem
    if problem is not None:
        yield Fact("sst.syntax_error", {
            "path": relative, "line": problem.line, "column": problem.column,
            "message": problem.message,
        }, at(problem.line))

    for key in config.app_keys:
        data = {"key": key.key, "line": key.line, "known": key.known}
        yield Fact("sst.app_key", data, at(key.line))

    yield from _provider_facts(config, at)

    for component in config.components:
        links = tsparse.get_member(component.args, "link")
        link_items = (
            [tsparse.text(item) for item in links.named_children if item.type != "comment"]
            if links is not None and links.type == "array" else []
        )
        yield Fact("sst.component", {
            "type": component.type, "namespace": component.namespace, "name": component.name,
            "line": component.line, "variable": component.variable, "links": link_items,
        }, at(component.line))

    for env in config.env_vars:
        yield Fact("sst.env_var", {
            "component": env.component, "component_type": env.component_type, "name": env.name,
            "line": env.line, "value_kind": env.value_kind, "runs_on_lambda": env.runs_on_lambda,
        }, at(env.line))

    for misuse in config.output_misuses:
        yield Fact("sst.output_misuse", {
            "component": misuse.component, "key": misuse.key, "line": misuse.line,
            "expression": misuse.expression, "suggestion": misuse.suggestion,
            "outputs": misuse.outputs,
        }, at(misuse.line))

    for table in config.dynamo_tables:
        yield Fact("sst.dynamo", {
            "name": table.name, "line": table.line, "fields": table.fields,
            "indexed": table.indexed, "unindexed": table.unindexed, "static": table.static,
        }, at(table.line))

    for component, value in config.domain_nodes():
        domain = config.domain(component, value, None)
        name_node = value if value.type != "object" else tsparse.get_member(value, "name")
        name_expression = None
        if name_node is not None and domain.name is None:
            name_expression = tsparse.text(name_node)
        yield Fact("sst.domain", {
            "component": domain.component,
            "component_type": component.type,
            "name": domain.name,
            "name_expression": name_expression,
            "aliases": domain.aliases,
            "redirects": domain.redirects,
            "dns": domain.dns,
            "cert": domain.cert,
            "cert_region": sstconfig.certificate_region(domain.cert),
            "cloudfront": component.type in sstconfig.CLOUDFRONT_COMPONENTS,
            "line": domain.line,
        }, at(domain.line))

    for branch in config.stage_branches:
        yield Fact("sst.stage_branch", {
            "stage": branch.stage, "operator": branch.operator, "line": branch.line,
        }, at(branch.line))


def _provider_facts(config: SstConfig, at: Locate) -> Iterator[Fact]:
    from deploykit import sstconfig, tsparse

    for entry in config.providers:
        if entry.name != "aws":
            yield Fact("sst.provider", {
                "name": entry.name, "stage": None, "stage_label": "every stage",
                "profile": None, "region": None,
                "profile_expression": None, "region_expression": None, "region_known": None,
                "dynamic": False, "line": entry.line,
            }, at(entry.line))
            continue

        profile_node = tsparse.get_member(entry.value, "profile")
        region_node = tsparse.get_member(entry.value, "region")
        stages: list[str | None] = [
            *config.compared_stages(profile_node), *config.compared_stages(region_node),
        ]
        branching = bool(stages)
        for stage in [*dict.fromkeys(stages), None]:
            settings = config.aws_provider(stage)
            profile_expression = _unevaluated(profile_node, settings.profile)
            region_expression = _unevaluated(region_node, settings.region)
            region_known = None
            if settings.region is not None:
                region_known = settings.region in sstconfig.known_regions()
            dynamic = branching or profile_expression is not None or region_expression is not None
            yield Fact("sst.provider", {
                "name": "aws",
                "stage": stage,
                "stage_label": _stage_label(stage, branching),
                "profile": settings.profile,
                "region": settings.region,
                "profile_expression": profile_expression,
                "region_expression": region_expression,
                "region_known": region_known,
                "dynamic": dynamic,
                "line": entry.line,
            }, at(entry.line))


def _unevaluated(node: Node | None, value: str | None) -> str | None:
    """Return the source text of a value that is present but could not be evaluated."""
    from deploykit import tsparse

    if node is None or value is not None:
        return None
    return tsparse.text(node)


def _stage_label(stage: str | None, branching: bool) -> str:
    """Words for the stages a provider fact covers, for messages."""
    if stage is not None:
        return f"stage {stage}"
    return "every other stage" if branching else "every stage"
