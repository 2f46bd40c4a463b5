"""Generated rule docs and the rule schema stay in step with the rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploykit.ruledocs import SCHEMA_PATH, builtin_rules, render_rule_doc, rule_schema, stale_files
from deploykit.rulepacks import builtin_rule_files, read_rule_document
from engine.loader import RULE_KEYS, _plain
from tests.conftest import FIXTURES, REPO


def test_ruledocs_up_to_date() -> None:
    stale = [path.relative_to(REPO).as_posix() for path in stale_files(builtin_rules())]
    assert not stale, f"run `python -m deploykit.ruledocs`; out of date: {', '.join(stale)}"


def test_schema_file_equals_printed_schema(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "schema")
    assert result.returncode == 0
    assert result.stdout == SCHEMA_PATH.read_text(encoding="utf-8")


def test_schema_rule_keys_match_loader() -> None:
    assert set(rule_schema()["$defs"]["rule"]["properties"]) == set(RULE_KEYS)


@pytest.mark.parametrize("file", builtin_rule_files(), ids=lambda f: f.display)
def test_builtin_rule_file_validates(file) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    document = _plain(read_rule_document(file.path, file.display))
    jsonschema.Draft202012Validator(rule_schema()).validate(document)


def test_pack_fixture_files_validate() -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(rule_schema())
    for path in sorted((FIXTURES / "packs").rglob("*.yaml")):
        validator.validate(_plain(read_rule_document(path, str(path))))


def test_schema_rejects_unknown_rule_key() -> None:
    import jsonschema

    document = {"rules": [{"id": "a/b", "colour": "red"}]}
    errors = list(jsonschema.Draft202012Validator(rule_schema()).iter_errors(document))
    assert errors


def test_rule_doc_sections() -> None:
    rule = next(rule for rule in builtin_rules() if rule.id == "core/could-not-check")
    page = render_rule_doc(rule)
    for heading in (
        "## What it checks",
        "## Why it matters",
        "## How to fix it by hand",
        "## Fix safety",
        "## Example",
    ):
        assert heading in page


def test_ruledocs_check_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "deploykit.ruledocs", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout
    assert json.loads(SCHEMA_PATH.read_text())["$id"]
