"""The fix loop: checks before writing, atomic writes, the journal and undo."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from engine.fixloop import (
    EnvStore,
    UndoError,
    apply_plans,
    journal_entries,
    undo_last,
    write_atomic,
)
from engine.plan import CommandStep, FileEdit, FixPlan


def make_plan(*edits: FileEdit, safety: str = "safe", **extra: object) -> FixPlan:
    return FixPlan(
        rule_id="test/rule",
        fixer="test",
        safety=safety,  # type: ignore[arg-type]
        description="test fix",
        edits=edits,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "package.json").write_bytes(b'{\n  "name": "app"\n}\n')
    (root / "src").mkdir()
    (root / "src" / "index.ts").write_bytes(b"export const a = 1;\r\n")
    return root


def test_apply_plans_writes_edit(project: Path) -> None:
    edit = FileEdit("package.json", b'{\n  "name": "app"\n}\n', b'{\n  "name": "web"\n}\n')

    run = apply_plans(project, [make_plan(edit)])

    assert run.results[0].applied
    assert (project / "package.json").read_bytes() == b'{\n  "name": "web"\n}\n'


def test_apply_plans_rejects_changed_file(project: Path) -> None:
    edit = FileEdit("package.json", b"stale content\n", b"new\n")

    run = apply_plans(project, [make_plan(edit)])

    assert not run.results[0].applied
    assert "changed since the fix was planned" in (run.results[0].error or "")
    assert (project / "package.json").read_bytes() == b'{\n  "name": "app"\n}\n'


def test_apply_plans_skips_manual_plan(project: Path) -> None:
    edit = FileEdit("package.json", (project / "package.json").read_bytes(), b"{}\n")

    run = apply_plans(project, [make_plan(edit, safety="manual")])

    assert not run.results[0].applied
    assert (project / "package.json").read_bytes() == b'{\n  "name": "app"\n}\n'
    assert run.journal is None


def test_apply_plans_applies_confirmed_manual_plan(project: Path) -> None:
    edit = FileEdit("package.json", (project / "package.json").read_bytes(), b"{}\n")

    run = apply_plans(project, [make_plan(edit, safety="manual")], confirmed_manual=True)

    assert run.results[0].applied
    assert (project / "package.json").read_bytes() == b"{}\n"


@pytest.mark.parametrize("relative", ["../outside.txt", "/etc/passwd", "src/../../outside.txt"])
def test_apply_plans_rejects_path_escape(project: Path, relative: str) -> None:
    edit = FileEdit(relative, None, b"owned\n")

    run = apply_plans(project, [make_plan(edit)])

    assert not run.results[0].applied
    assert not (project.parent / "outside.txt").exists()


def test_apply_plans_rejects_symlink_escape(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"keep\n")
    (project / "link").symlink_to(outside)
    edit = FileEdit("link/secret.txt", b"keep\n", b"overwritten\n")

    run = apply_plans(project, [make_plan(edit)])

    assert not run.results[0].applied
    assert "outside the project root" in (run.results[0].error or "")
    assert (outside / "secret.txt").read_bytes() == b"keep\n"


def test_apply_plans_rejects_git_folder(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "config").write_bytes(b"[core]\n")
    edit = FileEdit(".git/config", b"[core]\n", b"[core]\n\tbare = true\n")

    run = apply_plans(project, [make_plan(edit)])

    assert not run.results[0].applied
    assert ".git" in (run.results[0].error or "")
    assert (project / ".git" / "config").read_bytes() == b"[core]\n"


def test_apply_plans_keeps_file_mode(project: Path) -> None:
    script = project / "deploy.sh"
    script.write_bytes(b"#!/bin/sh\necho old\n")
    script.chmod(0o750)
    edit = FileEdit("deploy.sh", b"#!/bin/sh\necho old\n", b"#!/bin/sh\necho new\n")

    apply_plans(project, [make_plan(edit)])

    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert script.read_bytes() == b"#!/bin/sh\necho new\n"


def test_apply_plans_leaves_no_temporary_files(project: Path) -> None:
    edit = FileEdit("src/index.ts", b"export const a = 1;\r\n", b"export const a = 2;\r\n")

    apply_plans(project, [make_plan(edit)])

    assert sorted(p.name for p in (project / "src").iterdir()) == ["index.ts"]


def test_apply_plans_one_failure_keeps_others(project: Path) -> None:
    good = FileEdit("src/index.ts", b"export const a = 1;\r\n", b"export const a = 2;\r\n")
    bad = FileEdit("package.json", b"not what is there\n", b"{}\n")

    run = apply_plans(project, [make_plan(bad), make_plan(good)])

    assert [r.applied for r in run.results] == [False, True]
    assert (project / "src" / "index.ts").read_bytes() == b"export const a = 2;\r\n"


def test_journal_records_originals_before_change(project: Path) -> None:
    edit = FileEdit("package.json", b'{\n  "name": "app"\n}\n', b"{}\n")
    created = FileEdit("docs/new.md", None, b"# new\n")

    run = apply_plans(project, [make_plan(edit, created)])

    assert run.journal is not None
    document = json.loads(run.journal.read_text())
    records = {record["path"]: record for record in document["files"]}
    assert records["package.json"]["existed"] is True
    assert records["docs/new.md"]["existed"] is False
    assert document["fixes"][0]["rule_id"] == "test/rule"


def test_undo_restores_bytes_and_removes_created(project: Path) -> None:
    original = (project / "src" / "index.ts").read_bytes()
    (project / "src" / "index.ts").chmod(0o640)
    plans = [
        make_plan(FileEdit("src/index.ts", original, b"changed\n")),
        make_plan(FileEdit("src/created.ts", None, b"export {};\n")),
        make_plan(FileEdit("package.json", (project / "package.json").read_bytes(), None)),
    ]
    apply_plans(project, plans)

    result = undo_last(project)

    assert (project / "src" / "index.ts").read_bytes() == original
    assert stat.S_IMODE((project / "src" / "index.ts").stat().st_mode) == 0o640
    assert not (project / "src" / "created.ts").exists()
    assert (project / "package.json").read_bytes() == b'{\n  "name": "app"\n}\n'
    assert set(result.restored) == {"src/index.ts", "package.json"}
    assert result.removed == ("src/created.ts",)
    assert journal_entries(project) == []


def test_undo_without_journal_raises(project: Path) -> None:
    with pytest.raises(UndoError, match="nothing to undo"):
        undo_last(project)


def test_undo_rejects_file_changed_after_fix(project: Path) -> None:
    apply_plans(
        project,
        [make_plan(FileEdit("package.json", (project / "package.json").read_bytes(), b"{}\n"))],
    )
    (project / "package.json").write_bytes(b'{"edited": "by hand"}\n')

    with pytest.raises(UndoError, match="package.json changed after the fix"):
        undo_last(project)
    assert (project / "package.json").read_bytes() == b'{"edited": "by hand"}\n'


def test_undo_twice_restores_older_run(project: Path) -> None:
    first = (project / "package.json").read_bytes()
    apply_plans(project, [make_plan(FileEdit("package.json", first, b"second\n"))])
    apply_plans(project, [make_plan(FileEdit("package.json", b"second\n", b"third\n"))])

    undo_last(project)
    assert (project / "package.json").read_bytes() == b"second\n"
    undo_last(project)
    assert (project / "package.json").read_bytes() == first


def test_apply_plans_stores_env_and_undo_removes_it(project: Path) -> None:
    from deploykit.runsettings import RUN_ENV_FILE, load_run_env, save_run_env

    store = EnvStore(
        RUN_ENV_FILE.as_posix(), lambda settings: save_run_env(project, None, dict(settings))
    )
    plan = make_plan(env={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"})

    run = apply_plans(project, [plan], env_store=store)

    assert run.results[0].applied
    assert load_run_env(project, "dev") == {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"}
    undo_last(project)
    assert not (project / RUN_ENV_FILE).exists()


def test_apply_plans_env_without_store_fails(project: Path) -> None:
    run = apply_plans(project, [make_plan(env={"NAME": "value"})])

    assert not run.results[0].applied
    assert "nowhere to store" in (run.results[0].error or "")


def test_apply_plans_runs_command_in_root(project: Path) -> None:
    step = CommandStep(
        (sys.executable, "-c", "import pathlib; pathlib.Path('ran.txt').write_text('ok')")
    )

    run = apply_plans(project, [make_plan(commands=(step,))])

    assert run.results[0].applied
    assert (project / "ran.txt").read_text() == "ok"


def test_apply_plans_reports_failed_command(project: Path) -> None:
    step = CommandStep((sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"))

    run = apply_plans(project, [make_plan(commands=(step,))])

    assert not run.results[0].applied
    assert "exit code 3: boom" in (run.results[0].error or "")


def test_apply_plans_times_out_command(project: Path) -> None:
    step = CommandStep((sys.executable, "-c", "import time; time.sleep(30)"))

    run = apply_plans(project, [make_plan(commands=(step,))], command_timeout=0.5)

    assert not run.results[0].applied
    assert "timed out after 0.5 s" in (run.results[0].error or "")


def test_apply_plans_missing_command(project: Path) -> None:
    step = CommandStep(("deploy-kit-no-such-program",))

    run = apply_plans(project, [make_plan(commands=(step,))])

    assert not run.results[0].applied
    assert "not found on PATH" in (run.results[0].error or "")


def test_write_atomic_new_file_honours_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.txt", b"x")
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_apply_plans_defers_second_edit_of_file(project: Path) -> None:
    original = (project / "package.json").read_bytes()
    first = make_plan(FileEdit("package.json", original, b"first\n"))
    second = make_plan(FileEdit("package.json", original, b"second\n"))

    run = apply_plans(project, [first, second])

    assert run.results[0].applied
    assert run.results[1].deferred
    assert (project / "package.json").read_bytes() == b"first\n"


def test_apply_plans_shared_journal_undoes_all(project: Path) -> None:
    from engine.fixloop import Journal

    original = (project / "package.json").read_bytes()
    journal = Journal(project)
    apply_plans(
        project, [make_plan(FileEdit("package.json", original, b"first\n"))], journal=journal
    )
    apply_plans(
        project, [make_plan(FileEdit("package.json", b"first\n", b"second\n"))], journal=journal
    )

    undo_last(project)

    assert (project / "package.json").read_bytes() == original


LOG_RULE = """
rules:
  - id: test/ambient-plugins
    title: Ambient Pulumi plugin
    severity: error
    scopes: [triage]
    match:
      kind: log.line
      where: {field: text, op: regex, value: "ambient plugin"}
    message: "line {line}: an ambient Pulumi plugin was used"
    why: w
    manual_steps: m
    fix:
      fixer: set-run-env
      safety: safe
      params: {name: PULUMI_IGNORE_AMBIENT_PLUGINS, value: "true"}
"""


def test_run_checks_log_fix_checked_next_run(project: Path) -> None:
    from deploykit.checks import run_checks
    from deploykit.context import RunContext
    from deploykit.diagnosis import default_registry
    from deploykit.runsettings import load_run_env
    from engine.facts import Fact, Source
    from engine.loader import load_rule_file

    rule_file = project.parent / "log.yaml"
    rule_file.write_text(LOG_RULE, encoding="utf-8")
    rules, _ = load_rule_file(rule_file, fixer_lookup=default_registry().max_safety)
    log_line = Fact(
        "log.line",
        {"text": "error: ambient plugin found", "line": 7},
        Source(file="deploy.log", line=7),
    )
    context = RunContext(root=project, scope="triage", stage="dev", offline=True)

    result = run_checks(context, rules, fix=True, extra_facts=[log_line])

    assert [(f.fixed, f.verified) for f in result.findings] == [(True, None)]
    assert result.fixed_next_run == 1
    assert result.exit_code == 0
    assert load_run_env(project, "dev") == {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"}


def test_journal_folder_ignored_by_git(project: Path) -> None:
    original = (project / "package.json").read_bytes()

    apply_plans(project, [make_plan(FileEdit("package.json", original, b"{}\n"))])

    assert (project / ".deploy-kit" / "journal" / ".gitignore").read_text() == "*\n"
