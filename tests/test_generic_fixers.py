"""Generic fixers: JSON keys, text replacement, build paths and commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deploykit.diagnosis import default_registry
from engine.facts import Fact, FactIndex, Source
from engine.fixing import FixContext, plan_fix
from engine.matcher import make_finding
from engine.model import FixSpec, Match, Rule
from engine.plan import FixPlan
from fixers.delete_build_path import NotBuildPathError, check_build_path, move_aside
from fixers.json_key import delete_key, set_key

PACKAGE = """{
  "name": "notes",
  "scripts": {
    "dev": "sst dev",
    "build": "next build"
  }
}
"""


def finding_for(
    fixer: str, safety: str, params: dict[str, Any], data: dict[str, Any] | None = None
):  # type: ignore[no-untyped-def]
    rule = Rule(
        id="test/sample",
        title="Sample",
        severity="error",
        scopes=frozenset({"doctor"}),
        message="m",
        why="w",
        manual_steps="step one\nstep two",
        match={"kind": "x"},
        matcher=lambda index: [],
        fix=FixSpec(fixer, safety, params),  # type: ignore[arg-type]
    )
    return make_finding(rule, Match(Fact("x", data or {}, Source(file="package.json", line=4))))


def plan_for(
    root: Path, fixer: str, params: dict[str, Any], data: dict[str, Any] | None = None
) -> FixPlan | None:
    finding = plan_fix(
        finding_for(fixer, "safe", params, data),
        FixContext(root=root, facts=FactIndex()),
        default_registry(),
    )
    return finding.plan


def test_json_set_key_replaces_value_only() -> None:
    edited = set_key(PACKAGE, ["scripts", "dev"], "next dev")
    assert edited == PACKAGE.replace('"dev": "sst dev"', '"dev": "next dev"')


def test_json_set_key_adds_member_with_file_indent() -> None:
    text = PACKAGE.replace("  ", "    ")
    edited = set_key(text, ["scripts", "sst:dev"], "sst dev")
    assert edited == text.replace('"next build"\n', '"next build",\n        "sst:dev": "sst dev"\n')


def test_json_set_key_creates_parent_objects() -> None:
    edited = set_key(PACKAGE, ["engines", "node"], ">=20")
    assert edited is not None
    assert edited.endswith('  },\n  "engines": {\n    "node": ">=20"\n  }\n}\n')


def test_json_set_key_keeps_missing_trailing_newline() -> None:
    edited = set_key('{"a": 1}', ["a"], 2)
    assert edited == '{"a": 2}'


def test_json_set_key_non_object_parent() -> None:
    assert set_key('{"a": [1]}', ["a", "b"], 2) is None


def test_json_delete_key_middle_member() -> None:
    edited = delete_key(PACKAGE, ["scripts", "dev"])
    assert edited == PACKAGE.replace('    "dev": "sst dev",\n', "")


def test_json_delete_key_last_member() -> None:
    edited = delete_key(PACKAGE, ["scripts", "build"])
    assert edited == PACKAGE.replace(',\n    "build": "next build"', "")


def test_json_delete_key_only_member() -> None:
    assert delete_key('{"a": {"b": 1}, "c": 2}\n', ["a", "b"]) == '{"a": {}, "c": 2}\n'


def test_json_delete_key_absent() -> None:
    assert delete_key(PACKAGE, ["scripts", "lint"]) is None


def test_json_set_key_plan_from_rule(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(PACKAGE)
    plan = plan_for(
        tmp_path,
        "json-set-key",
        {"path": "package.json", "key": "scripts.dev", "value": "{script}"},
        {"script": "next dev"},
    )
    assert plan is not None
    assert plan.safety == "safe"
    assert plan.edits[0].after == PACKAGE.replace("sst dev", "next dev").encode()


def test_json_set_key_plan_already_set(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(PACKAGE)
    assert (
        plan_for(
            tmp_path,
            "json-set-key",
            {"path": "package.json", "key": "scripts.dev", "value": "sst dev"},
        )
        is None
    )


def test_json_fixer_symlink_out_plans_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package.json").write_text(PACKAGE)
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside / "package.json", root / "package.json")
    assert plan_for(root, "json-delete-key", {"path": "package.json", "key": "name"}) is None


def test_replace_text_plan_with_groups(tmp_path: Path) -> None:
    (tmp_path / "sst.config.ts").write_text(
        'export default $config({\n  app() { return { provider: "aws" } }\n});\n'
    )
    params = {
        "path": "sst.config.ts",
        "pattern": r"\bprovider(\s*:)",
        "replacement": r"providers\1",
    }
    plan = plan_for(tmp_path, "replace-text", params)
    assert plan is not None
    assert (
        plan.edits[0].after
        == b'export default $config({\n  app() { return { providers: "aws" } }\n});\n'
    )


def test_replace_text_no_match_no_plan(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    assert (
        plan_for(tmp_path, "replace-text", {"path": "a.txt", "pattern": "bye", "replacement": "x"})
        is None
    )


def test_replace_text_template_path_escape(tmp_path: Path) -> None:
    params = {"path": "{file}", "pattern": "a", "replacement": "b"}
    assert plan_for(tmp_path, "replace-text", params, {"file": "../etc/passwd"}) is None


def test_delete_build_path_plan_runs_move(tmp_path: Path) -> None:
    platform = tmp_path / ".sst" / "platform"
    platform.mkdir(parents=True)
    (platform / "config.d.ts").write_text("x")
    plan = plan_for(tmp_path, "delete-build-path", {"path": ".sst"})
    assert plan is not None
    assert plan.safety == "safe"

    step = plan.commands[0]
    completed = subprocess.run(
        list(step.argv),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert completed.returncode == 0, completed.stderr
    assert not (tmp_path / ".sst").exists()
    moved = list((tmp_path / ".deploy-kit" / "trash").glob("*/.sst/platform/config.d.ts"))
    assert len(moved) == 1


def test_delete_build_path_missing_no_plan(tmp_path: Path) -> None:
    assert plan_for(tmp_path, "delete-build-path", {"path": ".next"}) is None


@pytest.mark.parametrize("relative", ["src", "apps/web", ".", "node_modules"])
def test_delete_build_path_rejects_source(tmp_path: Path, relative: str) -> None:
    (tmp_path / relative).mkdir(parents=True, exist_ok=True)
    with pytest.raises(NotBuildPathError):
        check_build_path(tmp_path, relative)


def test_delete_build_path_accepts_monorepo_app(tmp_path: Path) -> None:
    (tmp_path / "apps/web/.next/cache").mkdir(parents=True)
    assert (
        check_build_path(tmp_path, "apps/web/.next/cache")
        == (tmp_path / "apps/web/.next/cache").resolve()
    )


def test_delete_build_path_rejects_symlink_to_source(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    os.symlink(tmp_path / "src", tmp_path / ".next")
    with pytest.raises(NotBuildPathError):
        move_aside(tmp_path, ".next")
    assert (tmp_path / "src").is_dir()


def test_run_command_always_manual(tmp_path: Path) -> None:
    finding = plan_fix(
        finding_for(
            "run-command",
            "manual",
            {"command": ["sst", "unlock", "--stage", "{stage}"]},
            {"stage": "prod"},
        ),
        FixContext(root=tmp_path, facts=FactIndex()),
        default_registry(),
    )
    assert finding.plan is not None
    assert finding.plan.safety == "manual"
    assert finding.plan.commands[0].argv == ("sst", "unlock", "--stage", "prod")


def test_run_command_registered_manual() -> None:
    spec = default_registry().get("run-command")
    assert spec is not None
    assert spec.max_safety == "manual"


def test_delete_build_path_module_usage() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "fixers.delete_build_path"], capture_output=True, text=True
    )
    assert completed.returncode == 2
