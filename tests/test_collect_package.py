"""package.json facts, lockfiles and package-manager detection on real project folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploykit.collectors.package import collect
from deploykit.context import RunContext
from deploykit.diagnosis import diagnose, load_rules, select_rules
from deploykit.jsonspans import JsonPath, json_spans
from deploykit.layout import find_layout
from deploykit.packagemanager import (
    PackageManager,
    detect_package_manager,
    exec_argv,
    run_script_argv,
)
from engine.facts import Fact
from tests.conftest import FIXTURES


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / "projects" / name, target, symlinks=True)
    return target


def facts(root: Path) -> list[Fact]:
    find_layout.cache_clear()
    return list(collect(RunContext(root=root, offline=True)))


def of_kind(kind: str, found: list[Fact]) -> list[Fact]:
    return [fact for fact in found if fact.kind == kind]


def test_scripts_point_at_their_lines(tmp_path: Path) -> None:
    scripts = of_kind("package.script", facts(copy("broken", tmp_path)))
    by_name = {fact.get("name"): fact for fact in scripts}
    assert by_name["dev"].get("command") == "sst dev"
    assert by_name["dev"].get("line") == 6
    assert by_name["dev"].source.describe() == "package.json:6"
    assert by_name["lint"].get("line") == 9
    assert by_name["dev"].get("next_app") is True


def test_manifest_fields(tmp_path: Path) -> None:
    (manifest,) = of_kind("package.manifest", facts(copy("healthy", tmp_path)))
    assert manifest.get("name") == "notes"
    assert manifest.get("package_manager") == "pnpm@9.12.0"
    assert manifest.get("dev_dependencies")["sst"] == "3.3.21"
    assert manifest.get("dependencies")["next"] == "15.1.3"
    assert manifest.get("scripts")["sst:dev"] == "sst dev"


def test_monorepo_reports_every_package(tmp_path: Path) -> None:
    found = facts(copy("monorepo", tmp_path))
    manifests = {fact.get("path"): fact for fact in of_kind("package.manifest", found)}
    assert sorted(manifests) == ["apps/web/package.json", "infra/package.json", "package.json"]
    assert manifests["package.json"].get("workspaces") == ["apps/*", "infra"]
    assert manifests["apps/web/package.json"].get("next_app") is True
    assert manifests["package.json"].get("next_app") is False
    web_dev = [
        fact
        for fact in of_kind("package.script", found)
        if fact.get("path") == "apps/web/package.json" and fact.get("name") == "dev"
    ]
    assert web_dev[0].get("package") == "@acme/web"


def test_yarn_workspaces_object_form(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps({"workspaces": {"packages": ["packages/*"], "nohoist": []}})
    )
    (manifest,) = of_kind("package.manifest", facts(tmp_path))
    assert manifest.get("workspaces") == ["packages/*"]


def test_malformed_package_json_becomes_fact(tmp_path: Path) -> None:
    project = copy("monorepo", tmp_path)
    (project / "apps/web/package.json").write_text(
        '{\n  "name": "@acme/web",\n  "scripts": {"dev": "next dev",}\n}\n'
    )
    found = facts(project)
    (error,) = of_kind("package.json_error", found)
    assert error.get("path") == "apps/web/package.json"
    assert error.get("line") == 3
    assert error.get("column") == 33
    assert "invalid JSON" in error.get("message")
    assert len(of_kind("package.manifest", found)) == 2


def test_malformed_package_json_rule_is_error(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    (project / "package.json").write_text('{"name": "notes", }')
    find_layout.cache_clear()
    rules = select_rules(load_rules(), "doctor", ["package/invalid-package-json"])
    findings = diagnose(RunContext(root=project, offline=True), rules).findings
    assert [finding.severity for finding in findings] == ["error"]
    assert findings[0].message.startswith("package.json:1:19: invalid JSON")


def test_several_lockfiles_fact(tmp_path: Path) -> None:
    (manager,) = of_kind("package.manager", facts(copy("broken", tmp_path)))
    assert manager.get("lockfile_count") == 2
    assert manager.get("managers") == ["npm", "pnpm"]
    assert manager.get("name") == "pnpm"
    assert manager.get("source") == "lockfile"


def test_several_lockfiles_rule(tmp_path: Path) -> None:
    project = copy("broken", tmp_path)
    find_layout.cache_clear()
    rules = select_rules(load_rules(), "doctor", ["package/several-lockfiles"])
    findings = diagnose(RunContext(root=project, offline=True), rules).findings
    assert len(findings) == 1
    assert "pnpm-lock.yaml, package-lock.json" in findings[0].message


def test_single_lockfile_no_warning(tmp_path: Path) -> None:
    project = copy("healthy", tmp_path)
    find_layout.cache_clear()
    rules = select_rules(load_rules(), "doctor", ["package/several-lockfiles"])
    assert diagnose(RunContext(root=project, offline=True), rules).findings == []


@pytest.mark.parametrize(
    ("files", "package_manager", "expected", "source"),
    [
        (["pnpm-lock.yaml"], None, "pnpm", "lockfile"),
        (["yarn.lock"], None, "yarn", "lockfile"),
        (["bun.lockb"], None, "bun", "lockfile"),
        (["package-lock.json"], None, "npm", "lockfile"),
        (["package-lock.json", "yarn.lock"], "yarn@4.5.0", "yarn", "packageManager"),
        (["package-lock.json", "pnpm-lock.yaml"], None, "pnpm", "lockfile"),
        ([], "pnpm@9.12.0", "pnpm", "packageManager"),
        ([], None, "npm", "default"),
    ],
)
def test_detect_package_manager(
    tmp_path: Path,
    files: list[str],
    package_manager: str | None,
    expected: str,
    source: str,
) -> None:
    (tmp_path / ".git").mkdir()
    manifest = {"name": "x", **({"packageManager": package_manager} if package_manager else {})}
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    for name in files:
        (tmp_path / name).write_text("")
    manager = detect_package_manager(tmp_path)
    assert manager.name == expected
    assert manager.source == source


def test_detect_package_manager_walks_up_to_workspace_root(tmp_path: Path) -> None:
    project = copy("monorepo", tmp_path)
    manager = detect_package_manager(project / "infra")
    assert manager.name == "npm"
    assert manager.root == project.resolve()
    assert manager.folder == (project / "infra").resolve()


def test_run_script_argv() -> None:
    npm = PackageManager("npm", ("package-lock.json",), "lockfile", Path("/p"), Path("/p"))
    pnpm = PackageManager("pnpm", ("pnpm-lock.yaml",), "lockfile", Path("/p"), Path("/p"))
    assert run_script_argv(npm, "build") == ["npm", "run", "build"]
    assert run_script_argv(npm, "test", ["--watch=false"]) == [
        "npm",
        "run",
        "test",
        "--",
        "--watch=false",
    ]
    assert run_script_argv(pnpm, "test", ["--watch=false"]) == [
        "pnpm",
        "run",
        "test",
        "--watch=false",
    ]


def test_exec_argv_prefers_local_binary_up_the_tree(tmp_path: Path) -> None:
    binary = tmp_path / "node_modules" / ".bin" / "sst"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    os.chmod(binary, 0o755)
    infra = tmp_path / "infra"
    infra.mkdir()
    manager = PackageManager("npm", (), "default", infra, infra)
    assert exec_argv(manager, "sst", ["deploy", "--stage", "prod"]) == [
        str(binary),
        "deploy",
        "--stage",
        "prod",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("npm", ["npm", "exec", "--no", "--", "sst", "version"]),
        ("pnpm", ["pnpm", "exec", "sst", "version"]),
        ("yarn", ["yarn", "run", "sst", "version"]),
        ("bun", ["bun", "run", "sst", "version"]),
    ],
)
def test_exec_argv_never_downloads(tmp_path: Path, name: str, expected: list[str]) -> None:
    manager = PackageManager(name, (), "default", tmp_path, tmp_path)  # type: ignore[arg-type]
    assert exec_argv(manager, "sst", ["version"]) == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def walk(value: object, path: JsonPath = ()) -> list[tuple[JsonPath, object]]:
    found: list[tuple[JsonPath, object]] = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(walk(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(walk(item, (*path, index)))
    return found


@given(value=JSON_VALUES, indent=st.sampled_from([None, 2, "\t"]))
def test_json_spans_locate_every_value(value: object, indent: int | str | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    spans = json_spans(text)
    for path, expected in walk(value):
        span = spans[path]
        assert json.loads(text[span.value_start:span.value_end]) == expected
        assert span.line == text.count("\n", 0, span.key_start) + 1
