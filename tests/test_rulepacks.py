"""Project rule packs: override, disable and add rules beside the built-in ones."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from deploykit.diagnosis import InvalidRulesError, load_rules

PACK = "packs/acme"


def rule_yaml(rule_id: str, *, severity: str = "warning", title: str = "A sample rule") -> str:
    return textwrap.dedent(
        f"""\
        - id: {rule_id}
          title: {title}
          severity: {severity}
          scopes: [doctor]
          match:
            kind: run.context
            where: {{field: offline, op: "==", value: true}}
          message: "offline run of {{scope}}"
          why: A reason.
          manual_steps: A step.
          tests:
            match:
              - facts: [{{kind: run.context, data: {{offline: true}}}}]
            no_match:
              - facts: [{{kind: run.context, data: {{offline: false}}}}]
        """
    )


def write_pack(root: Path, name: str, body: str, folder: str = ".deploy-kit/rules") -> Path:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def test_pack_override_replaces_builtin(copy_project: Callable[[str], Path]) -> None:
    rules = {rule.id: rule for rule in load_rules(copy_project(PACK))}
    overridden = rules["core/could-not-check"]
    assert overridden.pack == "project"
    assert overridden.severity == "error"
    assert overridden.file == ".deploy-kit/rules/overrides.yaml"


def test_pack_disable_removes_builtin(copy_project: Callable[[str], Path]) -> None:
    builtin_ids = {rule.id for rule in load_rules()}
    project_ids = {rule.id for rule in load_rules(copy_project(PACK))}
    assert "aws/region-missing" in builtin_ids
    assert "aws/region-missing" not in project_ids


def test_pack_rule_paths_folder_loads(copy_project: Callable[[str], Path]) -> None:
    rules = {rule.id: rule for rule in load_rules(copy_project(PACK))}
    assert rules["acme/offline-run"].pack == "project"
    assert rules["acme/offline-run"].file == "tools/deploy-rules/team.yaml"


def test_pack_builtin_rules_keep_builtin_source(copy_project: Callable[[str], Path]) -> None:
    rules = load_rules(copy_project(PACK))
    sources = {rule.id: rule.pack for rule in rules}
    builtin_only = {rule.id for rule in load_rules()} - {
        "core/could-not-check",
        "aws/region-missing",
    }
    assert all(sources[rule_id] == "builtin" for rule_id in builtin_only)


def test_pack_duplicate_id_names_both_files(tmp_path: Path) -> None:
    write_pack(tmp_path, "a.yaml", "rules:\n" + textwrap.indent(rule_yaml("acme/same"), "  "))
    write_pack(tmp_path, "b.yaml", "\nrules:\n" + textwrap.indent(rule_yaml("acme/same"), "  "))
    with pytest.raises(InvalidRulesError) as raised:
        load_rules(tmp_path)
    message = str(raised.value)
    assert ".deploy-kit/rules/b.yaml:3" in message
    assert ".deploy-kit/rules/a.yaml:2" in message


def test_pack_disable_unknown_id_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_pack(tmp_path, "off.yaml", "disable: [acme/no-such-rule]\n")
    rules = load_rules(tmp_path)
    assert rules
    assert "acme/no-such-rule" in caplog.text


def test_pack_rule_path_escape_rejected(tmp_path: Path) -> None:
    (tmp_path / ".deploy-config.json").write_text(json.dumps({"rulePaths": ["../elsewhere"]}))
    (tmp_path.parent / "elsewhere").mkdir(exist_ok=True)
    with pytest.raises(InvalidRulesError) as raised:
        load_rules(tmp_path)
    assert "rulePaths[0]" in str(raised.value)


def test_pack_rule_path_missing_folder(tmp_path: Path) -> None:
    (tmp_path / ".deploy-config.json").write_text(json.dumps({"rulePaths": ["rules-here"]}))
    with pytest.raises(InvalidRulesError) as raised:
        load_rules(tmp_path)
    assert "'rules-here' does not exist" in str(raised.value)


def test_pack_yml_suffix_loads(tmp_path: Path) -> None:
    write_pack(
        tmp_path, "extra.yml", "rules:\n" + textwrap.indent(rule_yaml("acme/yml-rule"), "  ")
    )
    assert "acme/yml-rule" in {rule.id for rule in load_rules(tmp_path)}


def test_cli_rules_list_source_project(copy_project: Callable[[str], Path], cli) -> None:  # type: ignore[no-untyped-def]
    root = copy_project(PACK)
    result = cli("rules", "list", "--source", "project", "-C", str(root))
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:-1]]
    assert listed == ["core/could-not-check", "acme/offline-run", "acme/dev-script-runs-sst"]


def test_cli_rules_test_project_pack(copy_project: Callable[[str], Path], cli) -> None:  # type: ignore[no-untyped-def]
    root = copy_project(PACK)
    result = cli("rules", "test", "-C", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "acme/dev-script-runs-sst" in result.stdout
    assert "FAIL" not in result.stdout


def test_cli_doctor_reports_project_rule(copy_project: Callable[[str], Path], cli) -> None:  # type: ignore[no-untyped-def]
    root = copy_project(PACK)
    result = cli("doctor", str(root), "--offline")
    assert result.returncode in (0, 1), result.stderr
    assert "acme/offline-run" in result.stdout
    assert "this doctor run skipped every AWS check" in result.stdout


def test_cli_doctor_invalid_pack_exits_2(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    write_pack(tmp_path, "bad.yaml", "rules:\n  - id: acme/x\n    severity: loud\n")
    result = cli("doctor", str(tmp_path), "--offline")
    assert result.returncode == 2
    assert result.stderr.startswith("error: .deploy-kit/rules/bad.yaml:")
    assert "Traceback" not in result.stderr
