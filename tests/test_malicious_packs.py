"""Broken or hostile rule packs: each is a one-line error or a bounded run, never a hang."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from deploykit.diagnosis import InvalidRulesError, load_rules
from engine.patterns import PatternError, compile_pattern

RULE = textwrap.dedent(
    """\
    rules:
      - id: evil/sample
        title: A sample rule
        severity: warning
        scopes: [doctor]
        match:
          kind: run.context
        message: "run"
        why: A reason.
        manual_steps: A step.
    {extra}
    """
)


def write_rules(root: Path, body: str, name: str = "pack.yaml") -> Path:
    path = root / ".deploy-kit" / "rules" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def load_error(root: Path) -> str:
    with pytest.raises(InvalidRulesError) as raised:
        load_rules(root)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    write_rules(tmp_path, "rules:\n  - id: evil/x\n    title: [unclosed\n")
    message = load_error(tmp_path)
    assert message.startswith(".deploy-kit/rules/pack.yaml:")
    assert "invalid YAML" in message


def test_unknown_key_names_key_and_line(tmp_path: Path) -> None:
    write_rules(tmp_path, RULE.replace("{extra}", "    colour: red"))
    message = load_error(tmp_path)
    assert message.startswith(".deploy-kit/rules/pack.yaml:11:")
    assert "`colour`" in message


def test_wrong_type_names_key(tmp_path: Path) -> None:
    write_rules(tmp_path, RULE.replace("scopes: [doctor]", "scopes: doctor").replace("{extra}", ""))
    message = load_error(tmp_path)
    assert "pack.yaml:5" in message
    assert "`scopes`" in message


def test_fixer_above_maximum_safety(tmp_path: Path) -> None:
    fix = "    fix: {fixer: run-command, safety: safe, params: {command: [rm, -rf, /]}}"
    write_rules(tmp_path, RULE.replace("{extra}", fix))
    message = load_error(tmp_path)
    assert "`fix.safety`" in message
    assert "at most manual" in message


def test_fix_param_path_escape(tmp_path: Path) -> None:
    fix = (
        "    fix: {fixer: json-set-key, safety: safe, params: {path: ../x.json, key: a, value: 1}}"
    )
    write_rules(tmp_path, RULE.replace("{extra}", fix))
    message = load_error(tmp_path)
    assert "`fix.params.path`" in message
    assert "goes up with `..`" in message


def test_fix_param_into_git_rejected(tmp_path: Path) -> None:
    fix = (
        "    fix: {fixer: replace-text, safety: safe, "
        "params: {path: .git/config, pattern: x, replacement: y}}"
    )
    write_rules(tmp_path, RULE.replace("{extra}", fix))
    assert "inside .git/" in load_error(tmp_path)


def test_fix_param_unknown_key(tmp_path: Path) -> None:
    fix = "    fix: {fixer: delete-build-path, safety: safe, params: {path: .sst, force: true}}"
    write_rules(tmp_path, RULE.replace("{extra}", fix))
    assert "`fix.params.force`" in load_error(tmp_path)


def test_symlink_escape_plans_nothing(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package.json").write_text('{"name": "outside"}\n')
    project.mkdir()
    os.symlink(outside, project / "linked")
    fix = (
        "    fix: {fixer: json-set-key, safety: safe, "
        "params: {path: linked/package.json, key: name, value: hacked}}"
    )
    write_rules(project, RULE.replace("{extra}", fix))

    result = cli("doctor", str(project), "--offline", "--fix", "--select", "evil")

    assert "Traceback" not in result.stderr
    assert "evil/sample" in result.stdout
    assert (outside / "package.json").read_text() == '{"name": "outside"}\n'


def test_python_tag_rejected_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    body = f'rules: !!python/object/apply:os.system ["touch {marker}"]\n'
    write_rules(tmp_path, body)
    message = load_error(tmp_path)
    assert "YAML tag !!python/object/apply:os.system is not allowed" in message
    assert not marker.exists()


def test_custom_tag_rejected(tmp_path: Path) -> None:
    write_rules(
        tmp_path, RULE.replace('message: "run"', "message: !secret run").replace("{extra}", "")
    )
    assert "YAML tag !secret is not allowed" in load_error(tmp_path)


def test_alias_bomb_rejected(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    write_rules(tmp_path, "\n".join(lines) + "\nrules: []\n")
    assert "aliases expand to more than" in load_error(tmp_path)


def test_deep_nesting_rejected(tmp_path: Path) -> None:
    write_rules(tmp_path, "rules: " + "[" * 3000 + "]" * 3000 + "\n")
    message = load_error(tmp_path)
    assert "pack.yaml" in message


def test_ten_megabyte_file_rejected(tmp_path: Path) -> None:
    line = "# " + "padding " * 12 + "\n"
    path = write_rules(tmp_path, "rules: []\n" + line * (10 * 1024 * 1024 // len(line) + 1))
    assert path.stat().st_size > 10 * 1024 * 1024
    message = load_error(tmp_path)
    assert "over the 1048576-byte limit" in message


def test_special_file_rejected(tmp_path: Path) -> None:
    folder = tmp_path / ".deploy-kit" / "rules"
    folder.mkdir(parents=True)
    os.symlink("/dev/zero", folder / "zero.yaml")
    assert "not a regular file" in load_error(tmp_path)


def test_lookaround_rejected_at_load(tmp_path: Path) -> None:
    body = RULE.replace(
        "kind: run.context\n",
        'kind: log.line\n      where: {field: text, op: regex, value: "foo(?!bar)"}\n',
    )
    write_rules(tmp_path, body.replace("{extra}", ""))
    assert "lookaround" in load_error(tmp_path)


def test_backreference_rejected_at_load(tmp_path: Path) -> None:
    body = RULE.replace(
        "kind: run.context\n",
        'kind: log.line\n      where: {field: text, op: regex, value: "(a)\\\\1"}\n',
    )
    write_rules(tmp_path, body.replace("{extra}", ""))
    assert "backreference" in load_error(tmp_path)


def test_catastrophic_pattern_runs_bounded() -> None:
    pattern = compile_pattern("(a+)+$")
    text = "a" * 200_000 + "!"
    assert pattern.search(text) is None


def test_catastrophic_pattern_in_rules_test(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    long_line = "a" * 100_000 + "!"
    body = textwrap.dedent(
        f"""\
        rules:
          - id: evil/backtracking
            title: A pattern that backtracks in other engines
            severity: warning
            scopes: [triage]
            match:
              kind: log.line
              where: {{field: text, op: regex, value: "(a+)+$"}}
            message: "{{text}}"
            why: A reason.
            manual_steps: A step.
            tests:
              match:
                - log: "aaaa"
              no_match:
                - log: {json.dumps(long_line)}
        """
    )
    path = write_rules(tmp_path, body)
    result = cli("rules", "test", str(path), timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 failure" not in result.stdout


def test_rules_test_load_error_exits_2(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = write_rules(
        tmp_path, RULE.replace("severity: warning", "severity: 3").replace("{extra}", "")
    )
    result = cli("rules", "test", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "`severity`" in result.stderr


def test_possessive_pattern_rejected() -> None:
    with pytest.raises(PatternError):
        compile_pattern("(?>a+)b")
