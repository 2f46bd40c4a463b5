"""`deploy-kit rules`: list, show, test and scaffold rules; print the schema and fixers."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deploykit.diagnosis import InvalidRulesError, default_registry, load_rules
from deploykit.errors import InputError, UsageError
from deploykit.project import resolve_root
from deploykit.rulepacks import (
    BUILTIN,
    PROJECT,
    PROJECT_RULES_DIR,
    RULE_FILE_SUFFIXES,
    RuleFile,
    load_rule_files,
)
from engine.facts import Fact
from engine.loader import RULE_ID, RuleLoadError
from engine.model import SCOPES, Rule, RuleCase
from engine.rulecases import CaseResult, run_cases


def run_rules_list(path: Path, *, scope: str | None, source: str | None) -> int:
    if scope is not None and scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
    if source is not None and source not in (BUILTIN, PROJECT):
        raise UsageError(f"unknown source {source!r}; use builtin or project")
    rules = load_rules(resolve_root(path))

    rows = []
    for rule in rules:
        if scope is not None and scope not in rule.scopes:
            continue
        if source is not None and rule.pack != source:
            continue
        fix = f"{rule.fix.fixer} ({rule.fix.safety})" if rule.fix else "-"
        rows.append((rule.id, rule.severity, ",".join(sorted(rule.scopes)), fix, rule.pack))
    _print_table(("id", "severity", "scopes", "fix", "source"), rows)
    print(f"{len(rows)} rule{'s' if len(rows) != 1 else ''}")
    return 0


def run_rules_show(path: Path, rule_id: str) -> int:
    rules = load_rules(resolve_root(path))
    rule = next((r for r in rules if r.id == rule_id), None)
    if rule is None:
        raise UsageError(f"no rule with id {rule_id!r}; `deploy-kit rules list` lists the rules")

    print(f"{rule.id}: {rule.title}")
    print(
        f"severity {rule.severity}; scopes {', '.join(sorted(rule.scopes))}; "
        f"{rule.pack} rule at {rule.location}",
    )
    print(f"\nmessage: {rule.message}")
    print(f"\nWhy it matters\n{_indent(rule.why)}")
    print(f"\nHow to fix it by hand\n{_indent(rule.manual_steps)}")
    if rule.fix is None:
        print("\nFix: none (manual steps only)")
    else:
        params = (
            f" with {json.dumps(dict(rule.fix.params), sort_keys=True)}" if rule.fix.params else ""
        )
        print(f"\nFix: {rule.fix.fixer} ({rule.fix.safety}){params}")
    if rule.must_match:
        print(f"\nExample that matches\n{_indent(_case_text(rule.must_match[0]))}")
    if rule.references:
        print("\nReferences\n" + "\n".join(f"  {url}" for url in rule.references))
    return 0


def run_rules_test(project: Path, target: Path | None) -> int:
    """Run every rule's own cases; 0 when all pass, 1 on any failure."""
    rules = load_rules(resolve_root(project)) if target is None else _load_target(target)

    rows = []
    failures = 0
    for rule in rules:
        for passed, case, detail in _results(rule):
            failures += not passed
            rows.append(("pass" if passed else "FAIL", rule.id, case, detail))
    _print_table(("result", "rule", "case", "detail"), rows)
    print(f"{len(rules)} rules, {failures} failure{'s' if failures != 1 else ''}")
    return 1 if failures else 0


def run_rules_new(
    project: Path,
    rule_id: str,
    *,
    kind: str | None,
    log_line: str | None,
    offline: bool,
) -> int:
    """Write `.deploy-kit/rules/NAME.yaml` with one rule and its own test cases."""
    if not RULE_ID.match(rule_id):
        raise UsageError(
            f"invalid rule id {rule_id!r}; use lowercase words with hyphens grouped by a slash, "
            "such as `acme/debug-flag-in-production`"
        )
    if (kind is None) == (log_line is None):
        raise UsageError("give exactly one of --kind KIND or --log-line TEXT")
    root = resolve_root(project)
    target = root / PROJECT_RULES_DIR / f"{rule_id.replace('/', '-')}.yaml"
    if target.exists():
        raise UsageError(
            f"{target.relative_to(root).as_posix()} already exists; choose another id or "
            "edit that file"
        )

    if log_line is not None:
        text = scaffold_log_rule(rule_id, log_line)
    else:
        assert kind is not None
        text = scaffold_fact_rule(rule_id, kind, sample_fact(root, kind, offline=offline))

    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as handle:
        handle.write(text)
    relative = target.relative_to(root).as_posix()
    print(f"wrote {relative}")
    print(
        f"edit its title, message, why and manual_steps, then run: deploy-kit rules test {relative}"
    )
    return 0


def run_rules_schema() -> int:
    from deploykit.ruledocs import schema_text

    sys.stdout.write(schema_text())
    return 0


def run_rules_fixers() -> int:
    from fixers.params import declared_params

    for spec in default_registry():
        print(f"{spec.name} (at most {spec.max_safety}): {spec.summary}")
        declared = declared_params(spec.target) or {}
        for name, param in declared.items():
            need = "required" if param.required else "optional"
            print(f"    {name} ({param.type}, {need}): {param.description}")
    return 0


SCAFFOLD_HEADER = """\
# yaml-language-server: $schema=../rule.schema.json
# Write the schema beside this folder with: deploy-kit rules schema > .deploy-kit/rule.schema.json
rules:
"""

SCAFFOLD_TEXT = """\
    why: |
      TODO: why this problem matters: what breaks, for whom, and when.
    manual_steps: |
      TODO: the exact steps or commands that fix it by hand.
"""


def scaffold_log_rule(rule_id: str, log_line: str) -> str:
    """Return a rule file matching one log line, with that line as its must-match case."""
    from engine.logfacts import clean_line
    from engine.patterns import compile_pattern
    from engine.redact import REDACTED, redact

    line = redact(clean_line(log_line)).strip()
    if not line:
        raise UsageError("--log-line is empty; paste the log line that shows the failure")
    # Secrets are cut out of the line first, and their place matches any token.
    pattern = escape_pattern(line).replace(escape_pattern(REDACTED), r"\S+")
    compiled = compile_pattern(pattern)
    other = "a line that does not show this failure"
    if compiled.search(other):
        other = "ok"
    return (
        SCAFFOLD_HEADER
        + f"  - id: {rule_id}\n"
        + "    title: TODO one line naming the problem\n"
        + "    severity: error\n"
        + "    scopes: [triage]\n"
        + "    match:\n"
        + "      kind: log.line\n"
        + f"      where: {{field: text, op: regex, value: {_quote(pattern)}}}\n"
        + '    message: "TODO: what failed, at {file}:{line}: {text}"\n'
        + SCAFFOLD_TEXT
        + "    tests:\n"
        + "      match:\n"
        + f"        - log: {_quote(line)}\n"
        + "      no_match:\n"
        + f"        - log: {_quote(other)}\n"
    )


def scaffold_fact_rule(rule_id: str, kind: str, fact: Fact | None) -> str:
    """Return a rule file over facts of `kind`, with a real fact as its case when given."""
    from engine.redact import redact_data

    data: dict[str, Any] = dict(redact_data(dict(fact.data))) if fact is not None else {}
    field, value = _first_scalar(data)
    origin = "a fact collected from this project" if fact is not None else "an example fact"
    if field is None:
        field, value = "value", "example"
        data = {field: value}
    other = dict(data)
    other[field] = _different(value)
    return (
        SCAFFOLD_HEADER
        + f"  - id: {rule_id}\n"
        + "    title: TODO one line naming the problem\n"
        + "    severity: warning\n"
        + "    scopes: [doctor]\n"
        + "    match:\n"
        + f"      kind: {_quote(kind)}\n"
        + f"      # TODO: test the field that shows the problem; `deploy-kit facts --kind {kind}`\n"
        + "      # prints every field.\n"
        + f'      where: {{field: {_quote(field)}, op: "==", value: {_quote(value)}}}\n'
        + f'    message: "TODO: what is wrong: {field} is {{{field}}}"\n'
        + SCAFFOLD_TEXT
        + "    tests:\n"
        + "      match:\n"
        + f"        # {origin}\n"
        + f"        - facts:\n            - kind: {_quote(kind)}\n"
        + f"              data: {_quote(data)}\n"
        + "      no_match:\n"
        + f"        - facts:\n            - kind: {_quote(kind)}\n"
        + f"              data: {_quote(other)}\n"
    )


def sample_fact(root: Path, kind: str, *, offline: bool) -> Fact | None:
    """Collect facts of `kind` from the project and return the first, if any."""
    from deploykit.collectors import collectors_for
    from deploykit.context import RunContext
    from deploykit.diagnosis import run_collectors

    specs = collectors_for([kind])
    if not specs:
        return None
    context = RunContext(root=root, scope="doctor", offline=offline)
    index, _ = run_collectors(context, specs)
    facts = index.of_kind(kind)
    return facts[0] if facts else None


def escape_pattern(text: str) -> str:
    """Escape RE2 metacharacters so that `text` matches itself literally."""
    return "".join("\\" + char if char in RE2_SPECIAL else char for char in text)


RE2_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _quote(value: Any) -> str:
    # JSON text is valid YAML flow syntax, and json.dumps escapes every
    # character that would end or change a YAML scalar.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _first_scalar(data: dict[str, Any]) -> tuple[str | None, Any]:
    for key, value in data.items():
        if isinstance(value, str | int | float | bool) and key.isidentifier():
            return key, value
    return None, None


def _different(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return f"not-{value}"


def _load_target(target: Path) -> list[Rule]:
    if not target.exists():
        raise InputError(
            f"rule path {str(target)!r} does not exist; give a rule file or a folder of them"
        )
    if target.is_dir():
        paths = sorted(p for p in target.iterdir() if p.suffix in RULE_FILE_SUFFIXES)
    else:
        paths = [target]
    files = [RuleFile(path, str(path), PROJECT) for path in paths]
    try:
        rules, _ = load_rule_files(files, default_registry())
    except RuleLoadError as error:
        raise InvalidRulesError(error) from None
    return rules


def _results(rule: Rule) -> list[tuple[bool, str, str]]:
    rows: list[tuple[bool, str, str]] = []
    if not rule.must_match:
        rows.append((False, "-", f"no must-match case ({rule.location})"))
    if not rule.must_not_match:
        rows.append((False, "-", f"no must-not-match case ({rule.location})"))
    for result in run_cases(rule):
        rows.append((result.passed, _case_label(result), _detail(result)))
    return rows


def _case_label(result: CaseResult) -> str:
    expected = "match" if result.expected_match else "no_match"
    return f"{expected} (line {result.case.line})" if result.case.line else expected


def _detail(result: CaseResult) -> str:
    if result.passed:
        return ""
    if result.expected_match:
        return "expected a finding, got none"
    return "expected no finding, got one"


def _case_text(case: RuleCase) -> str:
    if case.log is not None:
        return f"log: {case.log.strip()}"
    data: list[dict[str, Any]] = [{"kind": f.kind, "data": dict(f.data)} for f in case.facts]
    return json.dumps(data, indent=2, sort_keys=True)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.strip().splitlines())


def _print_table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Print aligned columns without wrapping, so ids stay whole and greppable."""
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
