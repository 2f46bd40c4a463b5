"""Rule files: invalid ones are rejected with the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loader import RuleLoadError, load_rule_file, load_rule_files

VALID = """\
rules:
  - id: test/port-in-use
    title: Port in use
    severity: error
    scopes: [doctor]
    match:
      kind: port.listener
      where: {field: port, op: "==", value: 3000}
    message: "port {port} is in use"
    why: The dev server cannot start.
    manual_steps: Stop the process.
    fix: {fixer: explain, safety: manual}
    tests:
      match:
        - facts: [{kind: port.listener, data: {port: 3000}}]
      no_match:
        - facts: [{kind: port.listener, data: {port: 80}}]
"""


def fixers(name: str) -> str | None:
    return {"explain": "manual", "set-run-env": "safe"}.get(name)


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> RuleLoadError:
    path = write(tmp_path, text)
    with pytest.raises(RuleLoadError) as raised:
        load_rule_file(path, fixer_lookup=fixers, display_name="rules.yaml")
    return raised.value


def test_loader_loads_valid_rule(tmp_path: Path) -> None:
    rules, disabled = load_rule_file(write(tmp_path, VALID), fixer_lookup=fixers)

    assert [rule.id for rule in rules] == ["test/port-in-use"]
    assert rules[0].line == 2
    assert rules[0].kinds == frozenset({"port.listener"})
    assert disabled == []


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "words"),
    [
        ("severity: error", "severity: fatal", 4, "severity", "invalid value 'fatal'"),
        ("scopes: [doctor]", "scopes: [build]", 5, "scopes", "unknown scope 'build'"),
        ("id: test/port-in-use", "id: Port In Use", 2, "id", "invalid rule id"),
        ('op: "=="', 'op: "~="', 8, "match.op", "unknown operator"),
        (
            "fixer: explain, safety: manual",
            "fixer: nope, safety: manual",
            12,
            "fix.fixer",
            "unknown fixer",
        ),
        (
            "fixer: explain, safety: manual",
            "fixer: explain, safety: safe",
            12,
            "fix.safety",
            "at most manual",
        ),
        ("    why: The dev server cannot start.\n", "", 2, "why", "missing"),
        ("    message:", "    colour: red\n    message:", 9, "colour", "unknown key"),
        (
            "value: 3000}",
            "value: 3000}\n      absent: {kind: x, on: 5}",
            9,
            "match.on",
            "`on` maps",
        ),
    ],
)
def test_loader_error_names_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, words: str
) -> None:
    assert old in VALID
    error = load_error(tmp_path, VALID.replace(old, new, 1))

    assert error.file == "rules.yaml"
    assert error.line == line
    assert error.key == key
    assert words in error.problem
    assert str(error).startswith(f"rules.yaml:{line}: key `{key}`: ")


def test_loader_rejects_lookaround_with_line(tmp_path: Path) -> None:
    text = VALID.replace(
        'where: {field: port, op: "==", value: 3000}',
        'where: {field: command, op: regex, value: "a(?=b)"}',
    )

    error = load_error(tmp_path, text)

    assert error.line == 8
    assert error.key == "match.value"
    assert "lookaround" in error.problem


def test_loader_rejects_backreference_with_line(tmp_path: Path) -> None:
    text = VALID.replace(
        'where: {field: port, op: "==", value: 3000}',
        'where: {field: command, op: regex, value: "(a)\\\\1"}',
    )

    error = load_error(tmp_path, text)

    assert error.line == 8
    assert "backreference" in error.problem


def test_loader_reports_yaml_syntax_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, VALID.replace("title: Port in use", "title: [unclosed"))

    assert error.line is not None
    assert 3 <= error.line <= 5
    assert "invalid YAML" in error.problem


def test_loader_rejects_case_without_facts(tmp_path: Path) -> None:
    error = load_error(
        tmp_path, VALID.replace("- facts: [{kind: port.listener, data: {port: 80}}]", "- {}")
    )

    assert error.key == "tests.no_match"
    assert error.line == 17


def test_loader_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"rules:\n  - id: \xff\n")

    with pytest.raises(RuleLoadError, match=r"rules.yaml:2: file is not valid UTF-8"):
        load_rule_file(path, display_name="rules.yaml")


def test_loader_rejects_duplicate_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.yaml")
    second = write(tmp_path, VALID, "b.yaml")

    with pytest.raises(RuleLoadError) as raised:
        load_rule_files([(first, "a.yaml"), (second, "b.yaml")], fixer_lookup=fixers)

    assert raised.value.file == "b.yaml"
    assert raised.value.line == 2
    assert "also defined in a.yaml:2" in raised.value.problem


def test_loader_rejects_unknown_top_level_key(tmp_path: Path) -> None:
    error = load_error(tmp_path, "version: 2\n" + VALID)

    assert error.line == 1
    assert error.key == "version"
