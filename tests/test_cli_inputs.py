"""Options and project files that cannot be used give one line, exit 2 or a manual plan."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

CLI = Callable[..., CompletedProcess[str]]


def test_doctor_rejects_invalid_stage_name(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    result = cli("doctor", str(project), "--offline", "--stage", "bad stage!")
    assert result.returncode == 2
    assert "invalid stage name 'bad stage!'" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_rejects_unconfigured_stage(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    result = cli("doctor", str(project), "--offline", "--stage", "production")
    assert result.returncode == 2
    assert "use 'prod'" in result.stderr


def test_facts_rejects_unknown_kind(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    result = cli("facts", str(project), "--offline", "--kind", "nope.kind")
    assert result.returncode == 2
    assert "unknown fact kind 'nope.kind'" in result.stderr
    assert "lock.file" in result.stderr


def test_facts_kind_family_selects_its_kinds(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    project = copy_project("broken")
    result = cli("facts", str(project), "--offline", "--kind", "lock")
    assert result.returncode == 0
    kinds = {fact["kind"] for fact in json.loads(result.stdout)}
    assert "lock.file" in kinds
    assert kinds <= {"lock.file", "lock.file_invalid", "collector.error"}


def test_fix_through_symlink_out_of_project_is_manual(
    cli: CLI, copy_project: Callable[[str], Path], tmp_path: Path,
) -> None:
    project = copy_project("broken")
    outside = tmp_path / "outside.json"
    outside.write_text('{\n  "scripts": {\n    "dev": "sst dev"\n  }\n}\n')
    before = outside.read_bytes()
    (project / "package.json").unlink()
    os.symlink(outside, project / "package.json")

    result = cli(
        "doctor", str(project), "--offline", "--fix", "--select", "package/recursive-sst-dev",
        "--format", "json",
    )

    assert outside.read_bytes() == before
    assert "Traceback" not in result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["fix"]["safety"] == "manual"
    assert "outside the project root" in finding["fix"]["description"]
    assert finding["fix"]["steps"]


def test_unclosed_sst_config_names_construct(
    cli: CLI, copy_project: Callable[[str], Path],
) -> None:
    project = copy_project("healthy")
    config = project / "sst.config.ts"
    config.write_bytes(config.read_bytes().rstrip()[: -len("});")])
    result = cli(
        "doctor", str(project), "--offline", "--select", "sst-config/syntax-error",
        "--format", "json",
    )
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert "is not closed before the end of the file" in finding["message"]


def test_binary_next_config_is_not_text(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    project = copy_project("healthy")
    (project / "next.config.ts").write_bytes(b"const a = {\x00\x01};\n")
    result = cli("doctor", str(project), "--offline", "--select", "nextjs/syntax-error")
    assert result.returncode == 1
    assert "NUL bytes" in result.stdout
    assert "Traceback" not in result.stderr
