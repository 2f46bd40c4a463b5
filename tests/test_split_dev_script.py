"""The split-dev-script fixer: byte-exact edits of package.json, and the recursive
`sst dev` case repaired through the real fix loop."""

# ruff: noqa: E501 (each package.json sample stays on one line so its bytes are readable)

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from deploykit.checks import run_checks
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.layout import find_layout
from engine.facts import FactIndex
from engine.logfacts import facts_from_text
from engine.matcher import evaluate
from fixers.split_dev_script import split_dev_script
from tests.conftest import CASES, FIXTURES

Cli = Callable[..., CompletedProcess[str]]
CASE = CASES / "recursive-sst-dev-script"
RULE = "package/recursive-sst-dev"

CASE_EXPECTED = b"""{
  "name": "my-app",
  "private": true,
  "scripts": {
    "dev": "next dev",
    "sst:dev": "sst dev",
    "build": "next build",
    "start": "next start"
  },
  "dependencies": {
    "next": "15.1.3",
    "react": "19.0.0",
    "react-dom": "19.0.0"
  },
  "devDependencies": {
    "sst": "3.3.21"
  }
}
"""


def case_project(tmp_path: Path) -> Path:
    project = tmp_path / "my-app"
    shutil.copytree(CASE, project)
    find_layout.cache_clear()
    return project


def test_split_case_package_json_bytes() -> None:
    assert split_dev_script((CASE / "package.json").read_bytes()) == CASE_EXPECTED


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            b'{\n\t"scripts": {\n\t\t"dev": "sst dev"\n\t},\n\t"dependencies": {"next": "15.1.3"}\n}',
            b'{\n\t"scripts": {\n\t\t"dev": "next dev",\n\t\t"sst:dev": "sst dev"\n\t},\n\t"dependencies": {"next": "15.1.3"}\n}',
        ),
        (
            b'{\r\n  "scripts": {\r\n    "dev": "sst dev --stage dev"\r\n  },\r\n  "devDependencies": {"next": "15"}\r\n}\r\n',
            b'{\r\n  "scripts": {\r\n    "dev": "next dev",\r\n    "sst:dev": "sst dev --stage dev"\r\n  },\r\n  "devDependencies": {"next": "15"}\r\n}\r\n',
        ),
        (
            b'{"scripts": {"dev": "sst dev", "build": "next build"}, "dependencies": {"next": "15"}}',
            b'{"scripts": {"dev": "next dev", "sst:dev": "sst dev", "build": "next build"}, "dependencies": {"next": "15"}}',
        ),
        (
            b'{"scripts": {"dev": "sst dev \\"quoted\\"\\u00e9"}, "dependencies": {"astro": "5"}}',
            b'{"scripts": {"dev": "astro dev", "sst:dev": "sst dev \\"quoted\\"\\u00e9"}, "dependencies": {"astro": "5"}}',
        ),
        (
            b'{"scripts": {"dev": "sst dev", "sst:dev": "sst dev"}, "dependencies": {"next": "15"}}',
            b'{"scripts": {"dev": "next dev", "sst:dev": "sst dev"}, "dependencies": {"next": "15"}}',
        ),
    ],
)
def test_split_keeps_formatting(before: bytes, after: bytes) -> None:
    assert split_dev_script(before) == after


@pytest.mark.parametrize(
    "before",
    [
        b'{"scripts": {"dev": "sst dev"}}',
        b'{"scripts": {"dev": "sst dev", "sst:dev": "sst dev --stage x"}, "dependencies": {"next": "15"}}',
        b'{"scripts": {"build": "next build"}, "dependencies": {"next": "15"}}',
        b'{"scripts": {"dev": "next dev"}, "dependencies": {"next": "15"}}',
        b'{"scripts": {"dev": "sst dev",}}',
        b"[]",
    ],
)
def test_split_declines(before: bytes) -> None:
    assert split_dev_script(before) is None


def test_case_plan_is_safe_with_diff(tmp_path: Path) -> None:
    project = case_project(tmp_path)
    rules = select_rules(load_rules(), "dev", [RULE])
    (finding,) = diagnose(RunContext(root=project, scope="dev", offline=True), rules).findings
    assert finding.evidence[0].describe() == "package.json:5"
    assert finding.plan is not None
    assert finding.plan.safety == "safe"
    (edit,) = finding.plan.edits
    assert edit.path == "package.json"
    assert edit.after == CASE_EXPECTED
    assert '+    "sst:dev": "sst dev",' in finding.plan.diff()


def test_case_fixed_and_verified(tmp_path: Path) -> None:
    project = case_project(tmp_path)
    rules = select_rules(load_rules(), "dev", [RULE])
    result = run_checks(RunContext(root=project, scope="dev", offline=True), rules, fix=True)
    (finding,) = result.findings
    assert finding.fixed is True
    assert finding.verified is True
    assert (project / "package.json").read_bytes() == CASE_EXPECTED


def test_monorepo_web_app_fixed_root_untouched(tmp_path: Path) -> None:
    project = tmp_path / "monorepo"
    shutil.copytree(FIXTURES / "projects" / "monorepo", project, symlinks=True)
    find_layout.cache_clear()
    root_before = (project / "package.json").read_bytes()
    rules = select_rules(load_rules(), "dev", [RULE])
    (finding,) = diagnose(RunContext(root=project, scope="dev", offline=True), rules).findings
    assert finding.plan is not None
    assert [edit.path for edit in finding.plan.edits] == ["apps/web/package.json"]
    assert (project / "package.json").read_bytes() == root_before


def test_doctor_fix_cli_repairs_case(tmp_path: Path, cli: Cli) -> None:
    project = case_project(tmp_path)
    result = cli("doctor", str(project), "--offline", "--fix", "--select", RULE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "package.json").read_bytes() == CASE_EXPECTED


def test_case_dev_log_matches_triage_rule() -> None:
    text = (CASE / "dev.log").read_text()
    rules = select_rules(load_rules(), "triage", ["package/recursive-sst-dev-in-log"])
    findings = evaluate(rules, FactIndex(facts_from_text(text, file="dev.log")))
    assert len(findings) == 1
    assert findings[0].evidence[0].describe() == "dev.log:1"
