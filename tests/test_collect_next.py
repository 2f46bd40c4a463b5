"""next.config through tree-sitter: the next_config collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploykit.collectors.next_config import collect
from deploykit.context import RunContext
from engine.facts import Fact
from tests.conftest import CASES, FIXTURES


def facts_of(root: Path, kind: str) -> list[Fact]:
    return [
        fact for fact in collect(RunContext(root=root, offline=True, env={})) if fact.kind == kind
    ]


def test_next_case_experimental_keys() -> None:
    facts = facts_of(CASES / "canary-only-next-js-feature-on-a-stable-release", "next.experimental")

    by_key = {fact.get("key"): fact for fact in facts}
    assert by_key["ppr"].get("canary_only") is True
    assert by_key["ppr"].get("value") == "incremental"
    assert by_key["ppr"].source.describe() == "next.config.ts:6"
    assert by_key["typedRoutes"].get("canary_only") is False


def test_next_monorepo_app_folder() -> None:
    [fact] = facts_of(FIXTURES / "projects" / "monorepo", "next.experimental")

    assert fact.get("app") == "apps/web"
    assert fact.get("key") == "dynamicIO"
    assert fact.source.describe() == "apps/web/next.config.mjs:4"


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("next.config.js", "module.exports = { experimental: { ppr: true } };\n"),
        ("next.config.mjs", "export default withAnalyzer({ experimental: { ppr: true } });\n"),
        (
            "next.config.ts",
            "const c = { experimental: { ppr: true } } satisfies NextConfig;\nexport default c;\n",
        ),
    ],
)
def test_next_config_export_forms(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / name).write_text(source)

    [fact] = facts_of(tmp_path, "next.experimental")
    assert fact.get("key") == "ppr"
    assert fact.get("value") is True


def test_next_syntax_error_is_a_fact(tmp_path: Path) -> None:
    (tmp_path / "next.config.mjs").write_text(
        "export default {\n  experimental: { ppr: true typedRoutes: true }\n};\n"
    )

    [problem] = facts_of(tmp_path, "next.syntax_error")
    assert problem.get("line") == 2
