"""Node.js, SST and Next.js versions: semver ranges, a fake `node` on PATH, and the rules
for Node.js too old for Next.js and SST v2 run on a v3 config."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deploykit.collectors.versions import (
    lowest_major,
    next_package_facts,
    node_version_fact,
    satisfies_range,
    sst_version_fact,
    suggest_node_major,
)
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.layout import find_layout
from engine.facts import FactIndex
from engine.logfacts import facts_from_text
from engine.matcher import evaluate
from engine.model import Finding
from tests.conftest import CASES, FIXTURES

NEXT_RANGE = "^18.18.0 || ^19.8.0 || >= 20.0.0"


@pytest.mark.parametrize(
    ("version", "range_text", "expected"),
    [
        ("18.20.8", ">=20.9.0", False),
        ("20.9.0", ">=20.9.0", True),
        ("v22.1.0", ">=20.9.0", True),
        ("18.18.0", NEXT_RANGE, True),
        ("18.17.1", NEXT_RANGE, False),
        ("19.7.0", NEXT_RANGE, False),
        ("19.8.0", NEXT_RANGE, True),
        ("20.0.0", NEXT_RANGE, True),
        ("16.20.2", ">=18.17.0", False),
        ("18.4.9", "~18.4", True),
        ("18.5.0", "~18.4", False),
        ("20.1.0", "18 - 20", True),
        ("21.0.0", "18 - 20", False),
        ("20.0.0", "20.x", True),
        ("21.0.0", "20.x", False),
        ("0.2.5", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("17.9.9", ">=18 <21", False),
        ("20.0.0", ">=18 <21", True),
        ("21.0.0", ">20", True),
        ("20.9.9", ">20", False),
        ("20.9.9", "<=20", True),
        ("21.0.0", "<=20", False),
        ("22.0.0", "*", True),
    ],
)
def test_satisfies_range(version: str, range_text: str, expected: bool) -> None:
    assert satisfies_range(version, range_text) is expected


@pytest.mark.parametrize("range_text", ["latest", ">=twenty", "^"])
def test_satisfies_range_unknown(range_text: str) -> None:
    assert satisfies_range("20.0.0", range_text) is None


@pytest.mark.parametrize(
    ("range_text", "expected"),
    [
        ("^3.3.21", 3),
        ("~2.43.0", 2),
        (">=3", 3),
        ("latest", None),
        ("workspace:*", None),
        ("npm:sst@3", None),
    ],
)
def test_lowest_major(range_text: str, expected: int | None) -> None:
    assert lowest_major(range_text) == expected


def test_suggest_node_major() -> None:
    assert suggest_node_major(">=20.9.0") == "20"
    assert suggest_node_major(NEXT_RANGE) == "18"


def fake_node(folder: Path, version: str) -> dict[str, str]:
    """Put a `node` first on PATH that prints `version`, and return that environment."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "node"
    script.write_text(f"#!{sys.executable}\nprint({version!r})\n")
    os.chmod(script, 0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_node_version_from_path(tmp_path: Path) -> None:
    fact = node_version_fact(fake_node(tmp_path / "bin", "v18.20.8"))
    assert fact.get("found") is True
    assert fact.get("version") == "18.20.8"
    assert fact.get("major") == 18
    assert fact.source.command == "node --version"


def test_node_version_missing(tmp_path: Path) -> None:
    fact = node_version_fact({"PATH": str(tmp_path)})
    assert fact.get("found") is False
    assert "not on PATH" in fact.get("reason")


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / "projects" / name, target, symlinks=True)
    find_layout.cache_clear()
    return target


def test_next_package_installed_with_engines(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    (fact,) = next_package_facts(find_layout(project), "18.20.8")
    assert fact.get("source") == "installed"
    assert fact.get("version") == "15.1.3"
    assert fact.get("engines_node") == NEXT_RANGE
    assert fact.get("node_satisfies") is True
    assert fact.get("canary") is False
    assert fact.source.describe() == "node_modules/next/package.json:4"


def test_next_package_hoisted_install(tmp_path: Path) -> None:
    project = copy("monorepo", tmp_path)
    shutil.move(project / "apps/web/node_modules/next", project / "node_modules/next")
    (fact,) = next_package_facts(find_layout(project), "20.11.1")
    assert fact.get("app") == "apps/web"
    assert fact.get("path") == "node_modules/next/package.json"
    assert fact.get("source") == "installed"


def test_next_package_declared_when_not_installed(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    shutil.rmtree(project / "node_modules/next")
    manifest = json.loads((project / "package.json").read_text())
    manifest["dependencies"]["next"] = "15.1.1-canary.12"
    (project / "package.json").write_text(json.dumps(manifest))
    (fact,) = next_package_facts(find_layout(project), "20.11.1")
    assert fact.get("source") == "declared"
    assert fact.get("canary") is True
    assert fact.get("node_satisfies") is None


def test_sst_version_declared_and_installed(tmp_path: Path) -> None:
    fact = sst_version_fact(find_layout(copy("monorepo", tmp_path)))
    assert fact.get("declared") == "3.3.21"
    assert fact.get("declared_in") == "infra/package.json"
    assert fact.get("declared_section") == "devDependencies"
    assert fact.get("installed") == "3.3.21"
    assert fact.get("installed_path") == "node_modules/sst/package.json"
    assert fact.get("config_file") == "infra/sst.config.ts"
    assert fact.get("config_v3") is True


def rule_findings(project: Path, rule_id: str, env: dict[str, str] | None = None) -> list[Finding]:
    find_layout.cache_clear()
    rules = select_rules(load_rules(), "doctor", [rule_id])
    context = RunContext(
        root=project, offline=True, env=env if env is not None else dict(os.environ)
    )
    return diagnose(context, rules).findings


def next_requiring(project: Path, engines: str) -> None:
    path = project / "node_modules/next/package.json"
    manifest = json.loads(path.read_text())
    manifest["engines"]["node"] = engines
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def test_node_too_old_rule_with_real_node_process(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    next_requiring(project, ">=20.9.0")
    findings = rule_findings(
        project, "versions/node-too-old-for-next", fake_node(tmp_path / "bin", "v18.20.8")
    )
    assert len(findings) == 1
    assert "Node.js 18.20.8 does not satisfy engines.node `>=20.9.0`" in findings[0].message
    assert findings[0].plan is not None
    assert findings[0].plan.safety == "manual"
    assert "Node.js 20" in findings[0].plan.description
    assert any(".nvmrc" in step for step in findings[0].plan.steps)


def test_node_too_old_rule_quiet_when_range_holds(tmp_path: Path) -> None:
    project = copy("broken", tmp_path)
    assert (
        rule_findings(
            project, "versions/node-too-old-for-next", fake_node(tmp_path / "bin", "v18.20.8")
        )
        == []
    )


def log_findings(text: str, rule_id: str) -> list[Finding]:
    rules = select_rules(load_rules(), "triage", [rule_id])
    return evaluate(rules, FactIndex(facts_from_text(text, file="build.log")))


def test_node_too_old_case_log() -> None:
    text = (CASES / "node-js-too-old-for-next-js" / "build.log").read_text()
    findings = log_findings(text, "versions/node-too-old-for-next-in-log")
    assert len(findings) == 1
    assert (
        findings[0].message
        == "Node.js 18.20.8 ran the build, but the package requires Node.js >=20.9.0"
    )


def test_sst_v2_case_log() -> None:
    text = (CASES / "sst-v2-cli-run-on-a-v3-config" / "deploy.log").read_text()
    findings = log_findings(text, "versions/sst-v2-cli-on-v3-config-in-log")
    lines = sorted(finding.evidence[0].line for finding in findings)
    assert lines == [2, 4, 5]


def test_sst_v2_declared_rule(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    manifest = json.loads((project / "package.json").read_text())
    manifest["devDependencies"]["sst"] = "^2.43.0"
    (project / "package.json").write_text(json.dumps(manifest))
    findings = rule_findings(project, "versions/sst-v2-declared-for-v3-config")
    assert len(findings) == 1
    assert "declares sst `^2.43.0`" in findings[0].message


def test_sst_v2_installed_rule_plans_locked_install(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    (project / "node_modules/sst/package.json").write_text('{"name": "sst", "version": "2.43.3"}\n')
    findings = rule_findings(project, "versions/sst-v2-installed-for-v3-config")
    assert len(findings) == 1
    plan = findings[0].plan
    assert plan is not None
    assert plan.safety == "safe"
    assert [step.argv for step in plan.commands] == [("pnpm", "install", "--frozen-lockfile")]


def test_sst_not_installed_rule(tmp_path: Path) -> None:
    project = copy("broken", tmp_path)
    shutil.rmtree(project / "node_modules/sst")
    findings = rule_findings(project, "versions/sst-not-installed")
    assert len(findings) == 1
    plan = findings[0].plan
    assert plan is not None
    assert plan.commands[0].argv == ("pnpm", "install", "--frozen-lockfile")


def test_sst_not_installed_without_lockfile_is_manual(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    shutil.rmtree(project / "node_modules/sst")
    (project / "pnpm-lock.yaml").unlink()
    (project / ".git").mkdir()
    findings = rule_findings(project, "versions/sst-not-installed")
    plan = findings[0].plan
    assert plan is not None
    assert plan.safety == "manual"
    assert plan.commands[0].argv == ("pnpm", "install")


def test_sst_not_declared_rule(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    manifest = json.loads((project / "package.json").read_text())
    del manifest["devDependencies"]["sst"]
    (project / "package.json").write_text(json.dumps(manifest))
    findings = rule_findings(project, "versions/sst-not-declared")
    assert len(findings) == 1
    assert findings[0].message.startswith(
        "sst.config.ts exists, but no package.json declares `sst`"
    )


Version = tuple[int, int, int]
VERSIONS = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))


def text(version: Version) -> str:
    return ".".join(str(part) for part in version)


@given(version=VERSIONS, bound=VERSIONS)
def test_comparators_follow_tuple_order(version: Version, bound: Version) -> None:
    assert satisfies_range(text(version), f">={text(bound)}") is (version >= bound)
    assert satisfies_range(text(version), f">= {text(bound)}") is (version >= bound)
    assert satisfies_range(text(version), f"<{text(bound)}") is (version < bound)


@given(version=VERSIONS, bound=VERSIONS)
def test_caret_range_keeps_major(version: Version, bound: Version) -> None:
    assume(bound[0] > 0)
    expected = version >= bound and version[0] == bound[0]
    assert satisfies_range(text(version), f"^{text(bound)}") is expected
