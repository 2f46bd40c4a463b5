"""`deploy-kit rules` from the command line: list, show, test, new, schema, fixers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

PACK = "packs/acme"
LOG_LINE = (
    "2024-05-01T10:00:00Z Error: unable to validate AWS credentials (key AKIAIOSFODNN7EXAMPLE)"
)


def test_rules_list_scope_filter(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "list", "--scope", "triage")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:-1]
    assert rows
    assert all("triage" in row.split()[2] for row in rows)


def test_rules_list_unknown_source(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "list", "--source", "vendor")
    assert result.returncode == 2
    assert "unknown source 'vendor'" in result.stderr


def test_rules_show_prints_sections(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "show", "core/could-not-check")
    assert result.returncode == 0, result.stderr
    assert "Why it matters" in result.stdout
    assert "How to fix it by hand" in result.stdout
    assert "rules/core.yaml:" in result.stdout
    assert '"kind": "collector.error"' in result.stdout


def test_rules_show_unknown_id(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "show", "core/nope")
    assert result.returncode == 2
    assert "no rule with id 'core/nope'" in result.stderr


def test_rules_test_failure_exits_1(copy_project: Callable[[str], Path], cli) -> None:  # type: ignore[no-untyped-def]
    root = copy_project(PACK)
    team = root / "tools" / "deploy-rules" / "team.yaml"
    team.write_text(
        team.read_text().replace(
            'log: "> next dev"', 'log: "> sst dev"'
        )
    )
    result = cli("rules", "test", str(team))
    assert result.returncode == 1
    assert "FAIL" in result.stdout
    assert "expected no finding, got one" in result.stdout


def test_rules_test_missing_cases_fail(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text(
        "rules:\n  - id: a/b\n    title: T\n    severity: info\n    scopes: [doctor]\n"
        "    match: {kind: run.context}\n    message: m\n    why: w\n    manual_steps: s\n"
    )
    result = cli("rules", "test", str(path))
    assert result.returncode == 1
    assert "no must-match case" in result.stdout


def test_rules_new_from_log_line(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "rules", "new", "acme/credentials-invalid", "--log-line", LOG_LINE, "-C", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / ".deploy-kit" / "rules" / "acme-credentials-invalid.yaml"
    text = written.read_text()
    assert "AKIAIOSFODNN7EXAMPLE" not in text
    assert r"Error: unable to validate AWS credentials \\(key \\S+\\)" in text

    tested = cli("rules", "test", str(written))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_rules_new_never_overwrites(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("rules", "new", "acme/x", "--log-line", "boom", "-C", str(tmp_path))
    assert first.returncode == 0
    written = tmp_path / ".deploy-kit" / "rules" / "acme-x.yaml"
    written.write_text("# edited by hand\n")
    second = cli("rules", "new", "acme/x", "--log-line", "boom", "-C", str(tmp_path))
    assert second.returncode == 2
    assert "already exists" in second.stderr
    assert written.read_text() == "# edited by hand\n"


def test_rules_new_from_collected_fact(copy_project: Callable[[str], Path], cli) -> None:  # type: ignore[no-untyped-def]
    root = copy_project(PACK)
    result = cli(
        "rules", "new", "acme/run-check", "--kind", "run.context", "--offline", "-C", str(root)
    )
    assert result.returncode == 0, result.stderr
    text = (root / ".deploy-kit" / "rules" / "acme-run-check.yaml").read_text()
    assert "a fact collected from this project" in text
    tested = cli("rules", "test", "-C", str(root))
    assert tested.returncode == 0, tested.stdout


def test_rules_new_needs_one_source(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "new", "acme/x", "-C", str(tmp_path))
    assert result.returncode == 2
    assert "--kind" in result.stderr


def test_rules_new_invalid_id(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "new", "Acme X", "--log-line", "boom", "-C", str(tmp_path))
    assert result.returncode == 2
    assert "invalid rule id" in result.stderr


def test_rules_schema_is_json(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "schema")
    assert json.loads(result.stdout)["title"] == "deploy-kit rule file"


def test_rules_fixers_lists_generic_fixers(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "fixers")
    assert result.returncode == 0
    for line in (
        "json-set-key (at most safe)",
        "json-delete-key (at most safe)",
        "replace-text (at most safe)",
        "delete-build-path (at most safe)",
        "run-command (at most manual)",
        "    pattern (pattern, required)",
    ):
        assert line in result.stdout
