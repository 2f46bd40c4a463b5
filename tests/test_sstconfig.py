"""sst.config.ts through tree-sitter: parse_sst_config and the sst_config collector."""

from __future__ import annotations

from pathlib import Path

from deploykit.collectors.sst_config import collect
from deploykit.context import RunContext
from deploykit.sstconfig import parse_sst_config
from engine.facts import Fact
from tests.conftest import CASES, FIXTURES

STAGED = b"""/// <reference path="./.sst/platform/config.d.ts" />
export default $config({
  app(input) {
    return {
      name: "notes",
      home: "aws",
      providers: {
        aws: {
          profile: input?.stage === "production" ? "notes-prod" : "notes-dev",
          region: $app.stage !== "staging" ? "eu-west-1" : "auto",
        },
      },
    };
  },
  async run() {
    const api = new sst.aws.Function("Api", { handler: "src/api.handler", url: true });
    new sst.aws.Nextjs("Web", {
      link: [api],
      environment: {
        A: $interpolate`${api.url}/v1`,
        B: `${$app.stage}-web`,
        C: api.url.apply((url) => `${url}/v1`),
        D: $concat(api.url, "/v1"),
        E: api.url + "/v1",
        F: "https://" + $app.stage,
      },
      domain: {
        name: $app.stage === "production" ? "notes.example.com" : `${$app.stage}.notes.example.com`,
        aliases: ["www.notes.example.com"],
        dns: sst.cloudflare.dns(),
        cert: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
      },
    });
  },
});
"""


def write(tmp_path: Path, source: bytes) -> Path:
    path = tmp_path / "sst.config.ts"
    path.write_bytes(source)
    return path


def facts_of(root: Path, kind: str) -> list[Fact]:
    return [
        fact for fact in collect(RunContext(root=root, offline=True, env={})) if fact.kind == kind
    ]


def test_aws_provider_per_stage(tmp_path: Path) -> None:
    config = parse_sst_config(write(tmp_path, STAGED))

    assert config.aws_provider("production").profile == "notes-prod"
    assert config.aws_provider("dev").profile == "notes-dev"
    assert config.aws_provider(None).profile == "notes-dev"
    assert config.aws_provider("staging").region == "auto"
    assert config.aws_provider("production").region == "eu-west-1"
    assert config.aws_provider("production").line == 8


def test_aws_provider_absent(tmp_path: Path) -> None:
    config = parse_sst_config(CASES / "output-used-in-a-plain-template-literal" / "sst.config.ts")

    assert config.aws_provider("dev").profile is None
    assert config.aws_provider("dev").region is None
    assert config.aws_provider("dev").line is None


def test_provider_facts_one_per_compared_stage(tmp_path: Path) -> None:
    write(tmp_path, STAGED)
    facts = facts_of(tmp_path, "sst.provider")

    by_stage = {fact.get("stage"): fact for fact in facts}
    assert set(by_stage) == {None, "production", "staging"}
    assert by_stage["staging"].get("region") == "auto"
    assert by_stage["staging"].get("region_known") is False
    assert by_stage["production"].get("profile") == "notes-prod"
    assert by_stage[None].get("region_known") is True
    assert all(fact.get("dynamic") is True for fact in facts)


def test_output_misuse_flags_only_plain_strings(tmp_path: Path) -> None:
    write(tmp_path, STAGED)
    facts = facts_of(tmp_path, "sst.output_misuse")

    assert [fact.get("key") for fact in facts] == ["E"]
    assert facts[0].get("suggestion") == "$interpolate`${api.url}/v1`"
    assert facts[0].get("component") == "Web"
    assert facts[0].source.describe() == "sst.config.ts:24"


def test_output_misuse_case_template_literal() -> None:
    config = parse_sst_config(CASES / "output-used-in-a-plain-template-literal" / "sst.config.ts")

    [misuse] = config.output_misuses
    assert misuse.key == "NEXT_PUBLIC_API_URL"
    assert misuse.expression == "`${api.url}/v1`"
    assert misuse.suggestion == "$interpolate`${api.url}/v1`"
    assert misuse.line == 10


def test_env_var_value_kinds(tmp_path: Path) -> None:
    write(tmp_path, STAGED)
    kinds = {fact.get("name"): fact.get("value_kind") for fact in facts_of(tmp_path, "sst.env_var")}

    assert kinds == {
        "A": "interpolate",
        "B": "template",
        "C": "apply",
        "D": "interpolate",
        "E": "expression",
        "F": "expression",
    }


def test_domain_fact_and_stage_evaluation(tmp_path: Path) -> None:
    config = parse_sst_config(write(tmp_path, STAGED))
    [domain_fact] = facts_of(tmp_path, "sst.domain")

    assert domain_fact.get("cert_region") == "eu-west-1"
    assert domain_fact.get("cloudfront") is True
    assert domain_fact.get("dns") == "sst.cloudflare.dns"
    assert domain_fact.get("aliases") == ["www.notes.example.com"]
    assert domain_fact.get("name") is None
    assert config.domains("production")[0].name == "notes.example.com"
    assert config.domains("dev")[0].name == "dev.notes.example.com"


def test_stage_branches(tmp_path: Path) -> None:
    write(tmp_path, STAGED)
    branches = [(f.get("stage"), f.get("operator")) for f in facts_of(tmp_path, "sst.stage_branch")]

    assert branches == [("production", "==="), ("staging", "!=="), ("production", "===")]


def test_app_keys_case_provider() -> None:
    config = parse_sst_config(CASES / "provider-instead-of-providers-in-app" / "sst.config.ts")

    keys = {key.key: key.known for key in config.app_keys}
    assert keys == {"name": True, "removal": True, "home": True, "provider": False}
    assert config.app_name == "my-app"


def test_dynamo_case_unindexed_fields() -> None:
    config = parse_sst_config(CASES / "dynamo-fields-that-are-not-indexed" / "sst.config.ts")

    [table] = config.dynamo_tables
    assert table.name == "Products"
    assert table.indexed == ["id", "category"]
    assert table.unindexed == ["price", "lastUpdated"]


def test_dynamo_healthy_all_indexed() -> None:
    config = parse_sst_config(FIXTURES / "projects" / "healthy" / "sst.config.ts")

    [table] = config.dynamo_tables
    assert table.unindexed == []
    assert table.static is True


def test_reserved_case_env_facts() -> None:
    root = CASES / "reserved-lambda-environment-variable"
    names = [(f.get("name"), f.get("runs_on_lambda")) for f in facts_of(root, "sst.env_var")]

    assert ("AWS_REGION", True) in names
    assert ("AWS_LAMBDA_EXEC_WRAPPER", True) in names


def test_missing_reference_line(tmp_path: Path) -> None:
    write(tmp_path, STAGED.split(b"\n", 1)[1])
    [config_fact] = facts_of(tmp_path, "sst.config")

    assert config_fact.get("has_reference") is False
    assert config_fact.get("app_name") == "notes"


def test_syntax_error_is_a_fact(tmp_path: Path) -> None:
    write(
        tmp_path,
        b'export default $config({\n  app() {\n    return { name: "a" home: "aws" };\n  },\n});\n',
    )
    [problem] = facts_of(tmp_path, "sst.syntax_error")

    assert problem.get("line") == 3
    assert problem.get("column") >= 1
    assert problem.source.describe() == "sst.config.ts:3"


def test_parse_cache_follows_mtime(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, STAGED)
    first = parse_sst_config(path)
    assert parse_sst_config(path) is first

    path.write_bytes(STAGED.replace(b'name: "notes"', b'name: "other"'))
    os.utime(path, ns=(first_mtime := path.stat().st_mtime_ns + 10**9, first_mtime))

    assert parse_sst_config(path).app_name == "other"
