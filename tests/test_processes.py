"""Processes: SST and Next.js processes running inside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploykit.collectors.processes import collect, next_fact, project_sst_processes, sst_fact
from deploykit.procinfo import ProcessInfo
from engine.facts import Fact, FactIndex
from tests.lock_helpers import context, install_fake_tool, make_project, running


def kinds(facts: list[Fact], kind: str) -> list[Fact]:
    return [fact for fact in facts if fact.kind == kind]


def test_processes_reports_sst_dev_with_stage(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev", "--stage", "x"], project) as pid:
        facts = list(collect(context(project)))
    (found,) = kinds(facts, "process.sst")
    assert found.get("pid") == pid
    assert found.get("mode") == "dev"
    assert found.get("stage") == "x"
    assert found.get("cwd") == str(project.resolve())


def test_processes_reports_sst_deploy(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "deploy", "--stage=prod"], project):
        (found,) = kinds(list(collect(context(project))), "process.sst")
    assert found.get("mode") == "deploy"
    assert found.get("stage") == "prod"


def test_processes_counts_sst_in_subfolder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    app = project / "apps" / "web"
    app.mkdir(parents=True)
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev"], app):
        (scan,) = kinds(list(collect(context(project))), "process.scan")
    assert scan.get("sst_count") == 1


def test_processes_ignores_other_projects(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    other = make_project(tmp_path / "notes")
    sst = install_fake_tool(other, "sst")
    with running([str(sst), "dev", "--stage", "x"], other):
        facts = list(collect(context(project)))
    assert kinds(facts, "process.sst") == []
    assert kinds(facts, "process.scan")[0].get("sst_count") == 0


def test_processes_reports_next_dev(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    next_binary = install_fake_tool(project, "next")
    with running([str(next_binary), "dev"], project) as pid:
        (found,) = kinds(list(collect(context(project))), "process.next")
    assert found.get("pid") == pid
    assert found.get("mode") == "dev"


def test_project_sst_processes_scans_when_not_collected(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    sst = install_fake_tool(project, "sst")
    with running([str(sst), "dev"], project) as pid:
        found = project_sst_processes(project, FactIndex())
    assert [fact.get("pid") for fact in found] == [pid]


@pytest.mark.parametrize(
    ("argv", "mode", "stage"),
    [
        (("node", "/app/node_modules/.bin/sst", "dev"), "dev", None),
        (("/app/node_modules/sst-linux-x64/bin/sst", "deploy", "--stage", "prod"), "deploy",
         "prod"),
        (("node", "/usr/lib/node_modules/pnpm/bin/pnpm.cjs", "sst", "dev"), "dev", None),
        (("npx", "sst", "--stage", "qa", "remove"), "other", "qa"),
        (("sst", "unlock", "--stage", "prod"), "other", "prod"),
    ],
)
def test_sst_fact_recognises_invocations(
    argv: tuple[str, ...], mode: str, stage: str | None,
) -> None:
    fact = sst_fact(ProcessInfo(4242, argv, Path("/app")))
    assert fact is not None
    assert fact.get("mode") == mode
    assert fact.get("stage") == stage


@pytest.mark.parametrize(
    "argv",
    [
        ("grep", "sst"),
        ("vim", "sst.config.ts"),
        ("node", "/app/node_modules/.bin/next", "dev"),
    ],
)
def test_sst_fact_ignores_other_programs(argv: tuple[str, ...]) -> None:
    assert sst_fact(ProcessInfo(4242, argv, Path("/app"))) is None


def test_next_fact_recognises_next_server_child() -> None:
    fact = next_fact(ProcessInfo(4242, ("next-server (v15.0.3)",), Path("/app")))
    assert fact is not None
    assert fact.get("mode") == "server"
