"""The JSON Schema of rule files and the generated rule documentation.

`python -m deploykit.ruledocs` rewrites `docs/rule.schema.json`,
`docs/rules/ID.md` for every built-in rule and `docs/rules/index.md`;
`python -m deploykit.ruledocs --check` only reports which files are out of
date (exit 1). The schema describes the format `engine.loader` accepts. The
loader stays the authority for what it checks beyond the schema, such as RE2
patterns, fixer names and their maximum safety.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.loader import REQUIRED_KEYS
from engine.model import SAFETIES, SCOPES, SEVERITIES, Rule, RuleCase

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = REPO_ROOT / "docs"
SCHEMA_PATH = DOCS_DIR / "rule.schema.json"
RULE_DOCS_DIR = DOCS_DIR / "rules"
SCHEMA_ID = "https://deploy-kit.dev/rule.schema.json"
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "regex", "exists")


def rule_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a rule file."""
    text = {"type": "string", "minLength": 1}
    condition_ref = {"$ref": "#/$defs/condition"}
    related = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": {**text, "description": "Fact kind, such as `port.listener`."},
            "as": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "description": "Name used by message templates: `{NAME.field}`.",
            },
            "on": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Primary fact field to this fact's field, such as `{port: port}`.",
            },
            "where": condition_ref,
        },
    }
    fact = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": text,
            "data": {"type": "object"},
            "source": {
                "type": "object",
                "properties": {
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                    "command": {"type": "string"},
                    "api": {"type": "string"},
                },
            },
        },
    }
    case = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "facts": {"type": "array", "items": {"$ref": "#/$defs/fact"}},
            "log": {
                "type": "string",
                "description": "Log text; each line becomes a `log.line` fact.",
            },
        },
        "anyOf": [{"required": ["facts"]}, {"required": ["log"]}],
    }
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": list(REQUIRED_KEYS),
        "properties": {
            "id": {
                "type": "string",
                "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)+$",
                "description": "Stable id `family/kebab-name`, such as `git/dirty-tree`.",
            },
            "title": {**text, "description": "One line naming the problem."},
            "severity": {"enum": list(SEVERITIES)},
            "scopes": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": list(SCOPES)},
                "description": "Commands the rule runs in.",
            },
            "match": {"$ref": "#/$defs/match"},
            "message": {
                **text,
                "description": "Template: `{field}` reads the primary fact, `{alias.field}` a "
                "joined one, `{capture.NAME}` a named regex group.",
            },
            "why": {**text, "description": "Why the problem matters."},
            "manual_steps": {**text, "description": "How to fix it by hand."},
            "fix": {
                "type": "object",
                "additionalProperties": False,
                "required": ["fixer", "safety"],
                "properties": {
                    "fixer": {**text, "description": "A name from `deploy-kit rules fixers`."},
                    "safety": {"enum": list(SAFETIES)},
                    "params": {"type": "object"},
                },
            },
            "references": {"type": "array", "items": {"type": "string"}},
            "tests": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "match": {"type": "array", "items": {"$ref": "#/$defs/case"}},
                    "no_match": {"type": "array", "items": {"$ref": "#/$defs/case"}},
                },
            },
            "enabled": {"type": "boolean"},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "deploy-kit rule file",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            "disable": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Rule ids to turn off.",
            },
        },
        "$defs": {
            "rule": rule,
            "match": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "kind": {
                        **text,
                        "description": "Primary fact kind: one finding per matching fact.",
                    },
                    "where": condition_ref,
                    "join": _one_or_many(related),
                    "absent": _one_or_many(related),
                },
                "anyOf": [{"required": ["kind"]}, {"required": ["join"]}, {"required": ["absent"]}],
            },
            "condition": {
                "oneOf": [
                    _single_key("all", {"type": "array", "minItems": 1, "items": condition_ref}),
                    _single_key("any", {"type": "array", "minItems": 1, "items": condition_ref}),
                    _single_key("not", condition_ref),
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["field", "op", "value"],
                        "properties": {
                            "field": {**text, "description": "Dotted path into the fact's data."},
                            "op": {"enum": list(OPERATORS)},
                            "value": {},
                        },
                    },
                ],
            },
            "fact": fact,
            "case": case,
        },
    }


def schema_text() -> str:
    return json.dumps(rule_schema(), indent=2) + "\n"


def rule_doc_path(rule_id: str) -> str:
    """Return the docs path of a rule relative to `docs/rules/`: `git/dirty-tree.md`."""
    return f"{rule_id}.md"


def render_rule_doc(rule: Rule) -> str:
    """Return the Markdown page of one rule."""
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        f"Severity: **{rule.severity}**. Runs in: {', '.join(sorted(rule.scopes))}. "
        f"Defined in `{rule.location}`.",
        "",
        "## What it checks",
        "",
        f"Fact kinds read: {', '.join(f'`{kind}`' for kind in sorted(rule.kinds))}.",
        "",
        "```yaml",
        _yaml_block({"match": dict(rule.match)}),
        "```",
        "",
        f"Message: `{rule.message}`",
        "",
        "## Why it matters",
        "",
        rule.why,
        "",
        "## How to fix it by hand",
        "",
        rule.manual_steps,
        "",
        "## Fix safety",
        "",
        _fix_safety(rule),
        "",
    ]
    example = _example(rule.must_match[0]) if rule.must_match else None
    if example:
        lines += [
            "## Example",
            "",
            "Facts that this rule reports:",
            "",
            "```yaml",
            example,
            "```",
            "",
        ]
    if rule.references:
        lines += ["## References", ""] + [f"- {url}" for url in rule.references] + [""]
    return "\n".join(lines)


def render_index(rules: Sequence[Rule]) -> str:
    lines = [
        "# Built-in rules",
        "",
        "Generated from `rules/*.yaml` by `python -m deploykit.ruledocs`; do not edit by hand.",
        "",
        "| id | severity | scopes | fix | title |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(rules, key=lambda r: r.id):
        fix = f"{rule.fix.fixer} ({rule.fix.safety})" if rule.fix else "-"
        lines.append(
            f"| [{rule.id}]({rule_doc_path(rule.id)}) | {rule.severity} | "
            f"{', '.join(sorted(rule.scopes))} | {fix} | {_cell(rule.title)} |"
        )
    return "\n".join(lines) + "\n"


def expected_files(rules: Sequence[Rule]) -> dict[Path, str]:
    """Return every generated file with its expected content."""
    files = {SCHEMA_PATH: schema_text(), RULE_DOCS_DIR / "index.md": render_index(rules)}
    for rule in rules:
        files[RULE_DOCS_DIR / rule_doc_path(rule.id)] = render_rule_doc(rule)
    return files


def stale_files(rules: Sequence[Rule]) -> list[Path]:
    """Return generated files that are missing, different, or no longer generated."""
    expected = expected_files(rules)
    stale = [
        path
        for path, content in expected.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]
    if RULE_DOCS_DIR.is_dir():
        stale += [path for path in RULE_DOCS_DIR.rglob("*.md") if path not in expected]
    return sorted(stale)


def write_docs(rules: Sequence[Rule]) -> list[Path]:
    """Write the generated files, delete pages of removed rules; return what changed."""
    changed = stale_files(rules)
    expected = expected_files(rules)
    for path in changed:
        if path not in expected:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path], encoding="utf-8")
    return changed


def builtin_rules() -> list[Rule]:
    from deploykit.diagnosis import default_registry
    from deploykit.rulepacks import builtin_rule_files as files
    from deploykit.rulepacks import load_rule_files

    rules, _ = load_rule_files(files(), default_registry())
    return rules


def _fix_safety(rule: Rule) -> str:
    if rule.fix is None:
        return "No automatic fix: follow the steps above."
    if rule.fix.safety == "safe":
        return (
            f"Safe: `deploy-kit doctor --fix` applies the `{rule.fix.fixer}` fixer, keeps an undo "
            "journal and checks again that the problem is gone."
        )
    return (
        f"Manual: the `{rule.fix.fixer}` fixer shows the exact steps; `deploy-kit fix {rule.id}` "
        "applies them only after you confirm in an interactive terminal."
    )


def _example(case: RuleCase) -> str | None:
    if case.log is not None:
        return _yaml_block({"log": case.log})
    if not case.facts:
        return None
    return _yaml_block({"facts": [{"kind": f.kind, "data": dict(f.data)} for f in case.facts]})


def _yaml_block(data: Any) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 100
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue().rstrip("\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: Sequence[str]) -> int:
    rules = builtin_rules()
    if "--check" in argv:
        stale = stale_files(rules)
        for path in stale:
            print(f"out of date: {path.relative_to(REPO_ROOT)}")
        if stale:
            print("run `python -m deploykit.ruledocs` to regenerate them", file=sys.stderr)
        return 1 if stale else 0
    for path in write_docs(rules):
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


def _one_or_many(item: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [item, {"type": "array", "minItems": 1, "items": item}]}


def _single_key(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [key],
        "properties": {key: value},
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
