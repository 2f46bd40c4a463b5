"""Fixers that splice sst.config.ts and next.config: exact bytes after, finding gone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules
from engine.model import Finding
from tests.conftest import CASES

RULES = {rule.id: rule for rule in load_rules()}


def copy_case(tmp_path: Path, slug: str) -> Path:
    target = tmp_path / slug
    shutil.copytree(CASES / slug, target)
    return target


def findings(root: Path, rule_id: str) -> list[Finding]:
    context = RunContext(root=root, offline=True, env={})
    return diagnose(context, [RULES[rule_id]]).findings


def apply(root: Path, finding: Finding) -> None:
    assert finding.plan is not None
    for edit in finding.plan.edits:
        path = root / edit.path
        assert path.read_bytes() == edit.before
        assert edit.after is not None
        path.write_bytes(edit.after)


def test_rename_app_key_provider_to_providers(tmp_path: Path) -> None:
    root = copy_case(tmp_path, "provider-instead-of-providers-in-app")
    before = (root / "sst.config.ts").read_bytes()
    [finding] = findings(root, "sst-config/unknown-app-key")
    assert finding.plan is not None
    assert finding.plan.safety == "safe"

    apply(root, finding)

    expected = before.replace(b"      provider: {", b"      providers: {", 1)
    assert (root / "sst.config.ts").read_bytes() == expected
    assert findings(root, "sst-config/unknown-app-key") == []


def test_rename_app_key_existing_target_is_manual(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "sst.config.ts").write_text(
        "export default $config({\n"
        "  app() {\n"
        '    return { name: "a", provider: {}, providers: { aws: true } };\n'
        "  },\n"
        "});\n"
    )
    [finding] = findings(root, "sst-config/unknown-app-key")
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert finding.plan.edits == ()


def test_drop_dynamo_fields_removes_unindexed_entries(tmp_path: Path) -> None:
    root = copy_case(tmp_path, "dynamo-fields-that-are-not-indexed")
    before = (root / "sst.config.ts").read_bytes()
    [finding] = findings(root, "dynamo/unindexed-fields")
    assert finding.plan is not None
    assert finding.plan.safety == "safe"

    apply(root, finding)

    expected = before.replace(b'        price: "number",\n', b"").replace(
        b'        lastUpdated: "string",\n', b""
    )
    assert (root / "sst.config.ts").read_bytes() == expected
    assert findings(root, "dynamo/unindexed-fields") == []


def test_drop_dynamo_fields_inline_object(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    source = (
        "export default $config({\n"
        "  async run() {\n"
        '    new sst.aws.Dynamo("T", {\n'
        '      fields: { pk: "string", extra: "number", /* keep */ '
        'sk: "string", last: "string" },\n'
        '      primaryIndex: { hashKey: "pk", rangeKey: "sk" },\n'
        "    });\n"
        "  },\n"
        "});\n"
    )
    (root / "sst.config.ts").write_text(source)
    [finding] = findings(root, "dynamo/unindexed-fields")

    apply(root, finding)

    expected = source.replace(
        '{ pk: "string", extra: "number", /* keep */ sk: "string", last: "string" }',
        '{ pk: "string", /* keep */ sk: "string" }',
    )
    assert (root / "sst.config.ts").read_text() == expected


def test_reserved_env_var_plan_removes_only_that_key(tmp_path: Path) -> None:
    root = copy_case(tmp_path, "reserved-lambda-environment-variable")
    before = (root / "sst.config.ts").read_bytes()
    [finding] = findings(root, "lambda/reserved-environment-variable")
    assert finding.fact is not None
    assert finding.fact.get("name") == "AWS_REGION"
    assert finding.evidence[0].describe() == "sst.config.ts:14"
    assert finding.plan is not None
    assert finding.plan.safety == "manual"

    apply(root, finding)

    expected = before.replace(b'        AWS_REGION: "eu-west-1",\n', b"")
    assert (root / "sst.config.ts").read_bytes() == expected
    assert findings(root, "lambda/reserved-environment-variable") == []


def test_interpolate_output_plan_wraps_template(tmp_path: Path) -> None:
    root = copy_case(tmp_path, "output-used-in-a-plain-template-literal")
    before = (root / "sst.config.ts").read_bytes()
    [finding] = findings(root, "sst-config/output-in-plain-string")
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert "$interpolate`${api.url}/v1`" in finding.plan.diff()

    apply(root, finding)

    expected = before.replace(
        b"NEXT_PUBLIC_API_URL: `${api.url}/v1`", b"NEXT_PUBLIC_API_URL: $interpolate`${api.url}/v1`"
    )
    assert (root / "sst.config.ts").read_bytes() == expected
    assert findings(root, "sst-config/output-in-plain-string") == []


def test_remove_next_experimental_keeps_typed_routes(tmp_path: Path) -> None:
    root = copy_case(tmp_path, "canary-only-next-js-feature-on-a-stable-release")
    before = (root / "next.config.ts").read_bytes()
    [finding] = findings(root, "nextjs/canary-only-feature")
    assert finding.fact is not None
    assert finding.fact.get("key") == "ppr"
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert any("next@canary" in step for step in finding.plan.steps)

    apply(root, finding)

    expected = before.replace(b'    ppr: "incremental",\n', b"")
    assert (root / "next.config.ts").read_bytes() == expected
    assert b"typedRoutes: true" in (root / "next.config.ts").read_bytes()
    assert findings(root, "nextjs/canary-only-feature") == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("const c = { a: 1, b: 2 };\n", "const c = { a: 1 };\n"),
        ("const c = { a: 1, b: 2, };\n", "const c = { a: 1 };\n"),
        ("const c = {\n  a: 1,\n  b: 2 // why\n};\n", "const c = {\n  a: 1,\n  // why\n};\n"),
        ("const c = {\n  a: 1,\n  b: 2\n};\n", "const c = {\n  a: 1,\n};\n"),
    ],
)
def test_remove_member_layouts(source: str, expected: str) -> None:
    from deploykit import tsparse

    tree = tsparse.parse_typescript(source.encode())
    declarator = next(n for n in tsparse.walk(tree.root_node) if n.type == "object")
    member = dict(tsparse.object_members(declarator))["b"]

    assert tsparse.remove_member(source.encode(), member).decode() == expected
