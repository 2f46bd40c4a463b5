"""doctor, fix and facts through the real CLI process, on copies of the sample projects."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_cli

CLI = Callable[..., subprocess.CompletedProcess[str]]

# Rules a project adds in .deploy-kit/rules/: a safe text fix for the `${...}`
# template that SST needs wrapped in $interpolate, and a manual edit that
# removes the canary-only `ppr` option from next.config.ts.
PROJECT_RULES = r"""
rules:
  - id: local/interpolate-api-url
    title: Output used in a plain template string
    severity: error
    scopes: [doctor]
    match:
      kind: sst.output_misuse
      where: {field: key, op: "==", value: NEXT_PUBLIC_API_URL}
    message: "{key} in {component} uses an output in a plain template string"
    why: A plain template string turns an SST output into "[object Object]".
    manual_steps: Wrap the template in $interpolate.
    fix:
      fixer: replace-text
      safety: safe
      params:
        path: sst.config.ts
        pattern: "(NEXT_PUBLIC_API_URL: )(`)"
        replacement: "\\1$interpolate\\2"
        description: wrap NEXT_PUBLIC_API_URL in $interpolate
  - id: local/drop-ppr
    title: Canary-only Next.js option
    severity: warning
    scopes: [doctor]
    match:
      kind: next.experimental
      where: {field: key, op: "==", value: ppr}
    message: "experimental.{key} in {path} needs a Next.js canary"
    why: Stable Next.js rejects it at build time.
    manual_steps: Remove the option.
    fix:
      fixer: replace-text
      safety: manual
      params:
        path: "{path}"
        pattern: "(\\n)\\s*ppr: [^\\n]*\\n"
        replacement: "\\1"
        description: remove experimental.ppr
"""


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Return every file under `root` except deploy-kit's own journal, by relative path."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(".deploy-kit/journal") or not path.is_file():
            continue
        files[relative] = path.read_bytes()
    return files


def no_aws_files(tmp_path: Path) -> dict[str, str]:
    """Return settings that hide this machine's AWS config files, so reports are stable."""
    return {
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }


@pytest.fixture
def broken_with_rules(copy_project: Callable[[str], Path]) -> Path:
    root = copy_project("broken")
    (root / ".deploy-kit" / "rules").mkdir(parents=True)
    (root / ".deploy-kit" / "rules" / "local.yaml").write_text(PROJECT_RULES, encoding="utf-8")
    return root


def test_doctor_missing_folder_one_line(cli: CLI, tmp_path: Path) -> None:
    result = cli("doctor", str(tmp_path / "absent"), "--offline")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: project folder")
    assert "Traceback" not in result.stderr


def test_doctor_file_instead_of_folder(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "sst.config.ts").write_text("export default {}\n")

    result = cli("doctor", str(tmp_path / "sst.config.ts"), "--offline")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "is a file, not a folder" in result.stderr


def test_doctor_unknown_format_one_line(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    root = copy_project("healthy")

    result = cli("doctor", str(root), "--offline", "--format", "xml")

    assert result.returncode == 2
    assert result.stderr == "error: unknown --format 'xml'; use one of text, json, sarif\n"
    assert result.stdout == ""


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_doctor_unknown_rule_selector(
    cli: CLI, copy_project: Callable[[str], Path], option: str,
) -> None:
    root = copy_project("healthy")

    result = cli("doctor", str(root), "--offline", option, "aws/profile-not-fuond")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"unknown rule id or prefix 'aws/profile-not-fuond' in {option}" in result.stderr
    assert result.stdout == ""


def test_doctor_select_outside_scope(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    root = copy_project("healthy")

    result = cli("doctor", str(root), "--offline", "--select", "log-sst-state")

    assert result.returncode == 2
    assert "matches no rule that `doctor` runs" in result.stderr
    assert result.stdout == ""



def finding_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [finding["rule_id"] for finding in json.loads(result.stdout)["findings"]]


def test_doctor_unparsed_config_only_syntax_error(
    cli: CLI, copy_project: Callable[[str], Path],
) -> None:
    root = copy_project("healthy")
    config = root / "sst.config.ts"
    config.write_text(config.read_text(encoding="utf-8").removesuffix("});\n"), encoding="utf-8")

    result = cli("doctor", str(root), "--offline", "--format", "json")

    # The region and profile are set in the file that does not parse, so the
    # AWS rules cannot tell whether they are missing.
    assert result.returncode == 1
    assert finding_ids(result) == ["sst-config/syntax-error"]


def test_doctor_invalid_package_json_no_sst_finding(
    cli: CLI, copy_project: Callable[[str], Path],
) -> None:
    root = copy_project("healthy")
    (root / "package.json").write_text('{"name": "notes",\n', encoding="utf-8")

    result = cli("doctor", str(root), "--offline", "--format", "json", "--select", "package",
                 "--select", "versions")

    assert result.returncode == 1
    assert "package/invalid-package-json" in finding_ids(result)
    assert "versions/sst-not-declared" not in finding_ids(result)

def test_doctor_text_report_snapshot(
    cli: CLI, copy_project: Callable[[str], Path], snapshot
) -> None:  # type: ignore[no-untyped-def]
    root = copy_project("broken")

    result = cli("doctor", str(root), "--offline", env=no_aws_files(root.parent))

    assert str(root) not in result.stdout
    assert result.stdout == snapshot


def test_doctor_json_report_snapshot(
    cli: CLI, copy_project: Callable[[str], Path], snapshot
) -> None:  # type: ignore[no-untyped-def]
    root = copy_project("broken")

    result = cli(
        "doctor", str(root), "--offline", "--format", "json", env=no_aws_files(root.parent)
    )

    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["exit_code"] == result.returncode
    assert report == snapshot


def test_doctor_fix_then_undo_round_trip(cli: CLI, broken_with_rules: Path) -> None:
    root = broken_with_rules
    original = tree_bytes(root)

    fixed = cli("doctor", str(root), "--offline", "--fix", "--format", "json")

    report = json.loads(fixed.stdout)
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert by_rule["local/interpolate-api-url"]["status"] == "fixed"
    assert by_rule["local/drop-ppr"]["status"] == "open"
    assert report["summary"]["fixed_verified"] >= 1
    assert report["journal"].startswith(".deploy-kit/journal/")
    config = (root / "sst.config.ts").read_text()
    assert "NEXT_PUBLIC_API_URL: $interpolate`" in config
    assert "ppr:" in (root / "next.config.ts").read_text()

    undone = cli("fix", "--undo", "-C", str(root))

    assert undone.returncode == 0, undone.stderr
    assert "restored sst.config.ts" in undone.stdout
    assert tree_bytes(root) == original


def test_doctor_fix_text_summary(cli: CLI, broken_with_rules: Path) -> None:
    result = cli("doctor", str(broken_with_rules), "--offline", "--fix", "--select", "local")

    assert "Fixed (1)" in result.stdout
    assert "0 errors, 1 warning; 1 fixed and verified; 1 manual fix waiting" in result.stdout
    assert result.returncode == 0


def test_doctor_exit_code_one_with_errors(cli: CLI, broken_with_rules: Path) -> None:
    result = cli("doctor", str(broken_with_rules), "--offline", "--select", "local")

    assert result.returncode == 1
    assert "1 error, 1 warning; 0 fixed and verified; 1 manual fix waiting" in result.stdout
    assert "1 safe fix available with --fix" in result.stdout


def test_fix_undo_without_journal(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    root = copy_project("healthy")

    result = cli("fix", "--undo", "-C", str(root))

    assert result.returncode == 2
    assert result.stderr.startswith("error: nothing to undo")


def test_fix_rejected_without_terminal(cli: CLI, broken_with_rules: Path) -> None:
    before = tree_bytes(broken_with_rules)

    result = cli("fix", "local/drop-ppr", "-C", str(broken_with_rules), "--offline", input="y\n")

    assert result.returncode == 2
    assert "needs an interactive terminal" in result.stderr
    assert tree_bytes(broken_with_rules) == before


def test_fix_rejected_in_ci(cli: CLI, broken_with_rules: Path) -> None:
    result = cli(
        "fix", "local/drop-ppr", "-C", str(broken_with_rules), "--offline", env={"CI": "true"}
    )

    assert result.returncode == 2
    assert "does not run when CI is set" in result.stderr


def test_fix_unknown_rule(cli: CLI, broken_with_rules: Path) -> None:
    result = cli("fix", "local/nope", "-C", str(broken_with_rules), "--offline")

    assert result.returncode == 2
    assert "unknown rule 'local/nope'" in result.stderr


def run_in_terminal(args: list[str], answer: str, timeout: float = 60) -> tuple[int, str]:
    """Run deploy-kit with stdin and stdout on a pseudo-terminal, answering its prompt."""
    controller, terminal = pty.openpty()
    environment = dict(os.environ, NO_COLOR="1", COLUMNS="100", TERM="dumb")
    environment.pop("CI", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "deploykit", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=environment,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    answered = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(controller, answer.encode())
                answered = True
        elif process.poll() is not None:
            break
    code = process.wait(timeout=10)
    os.close(controller)
    return code, output.decode("utf-8", "replace")


def test_fix_applies_manual_fix_after_confirmation(broken_with_rules: Path) -> None:
    code, output = run_in_terminal(
        ["fix", "local/drop-ppr", "-C", str(broken_with_rules), "--offline"], "y\n"
    )

    assert "Apply this manual fix? [y/N]" in output
    assert "local/drop-ppr: fixed and verified" in output
    assert code == 0
    assert "ppr:" not in (broken_with_rules / "next.config.ts").read_text()


def test_fix_declined_changes_nothing(broken_with_rules: Path) -> None:
    before = tree_bytes(broken_with_rules)

    code, output = run_in_terminal(
        ["fix", "local/drop-ppr", "-C", str(broken_with_rules), "--offline"], "n\n"
    )

    assert "skipped" in output
    assert code == 1
    assert tree_bytes(broken_with_rules) == before


def test_facts_prints_json_with_sources(cli: CLI, copy_project: Callable[[str], Path]) -> None:
    root = copy_project("broken")

    result = cli("facts", str(root), "--offline", "--kind", "sst.component")

    facts = json.loads(result.stdout)
    assert result.returncode == 0
    assert facts
    assert {fact["kind"] for fact in facts} == {"sst.component"}
    assert all(fact["source"].get("file") == "sst.config.ts" for fact in facts)


def test_run_cli_helper_uses_fixed_width() -> None:
    result = run_cli("--help")

    assert result.returncode == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_cli_start_imports_no_heavy_module() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deploykit", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    heavy = {"boto3", "botocore", "httpx", "tree_sitter", "ruamel", "ruamel.yaml", "re2"}
    assert imported, "python -X importtime printed no modules"
    assert sorted(imported & heavy) == []
