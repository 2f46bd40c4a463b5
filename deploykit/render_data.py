"""The JSON report (schema in docs/report-schema.md) and the SARIF 2.1.0 log.

Both are built as plain data with every string passed through
`engine.redact.redact`, and contain no absolute path and no time, so the
same project gives the same report on any machine.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from deploykit import __version__
from deploykit.checks import CheckResult, verification_key
from engine.facts import Source
from engine.model import Finding, Rule
from engine.plan import FileEdit, FixPlan
from engine.redact import redact

REPORT_SCHEMA_VERSION = 1
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def summary_counts(result: CheckResult) -> dict[str, int]:
    return {
        "errors": result.count("error"),
        "warnings": result.count("warning"),
        "info": result.count("info"),
        "fixed_verified": result.fixed_verified,
        "fixed_not_verified": result.fixed_unverified,
        "fixed_next_run": result.fixed_next_run,
        "manual_fixes_waiting": result.manual_waiting,
        "safe_fixes_available": result.safe_available,
    }


def report_data(result: CheckResult) -> dict[str, Any]:
    """Return the JSON report of `result`, as documented in docs/report-schema.md."""
    failed = _failed_fixes(result)
    data: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "deploy-kit", "version": __version__},
        "scope": result.context.scope,
        "stage": result.context.stage,
        "offline": result.context.offline,
        "fix_requested": result.fix_requested,
        "summary": summary_counts(result),
        "exit_code": result.exit_code,
        "findings": [_finding_data(finding, failed) for finding in result.findings],
        "journal": _relative(result, result.journal),
    }
    redacted: dict[str, Any] = redact_tree(data)
    return redacted


def _finding_data(
    finding: Finding, failed: Mapping[tuple[str, str, tuple[str, ...]], str]
) -> dict[str, Any]:
    rule = finding.rule
    status = "open"
    if finding.fixed:
        status = {True: "fixed", False: "fixed_not_verified", None: "fixed_next_run"}[
            finding.verified
        ]
    return {
        "rule_id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "status": status,
        "message": finding.message,
        "evidence": [_source_data(source) for source in finding.evidence],
        "fix": _plan_data(finding.plan) if finding.plan is not None else None,
        "fix_error": failed.get(verification_key(finding)),
        "why": rule.why,
        "manual_steps": rule.manual_steps,
        "rule_source": rule.location,
        "references": list(rule.references),
    }


def _source_data(source: Source) -> dict[str, Any]:
    data: dict[str, Any] = {"display": source.describe()}
    data.update(source.to_dict())
    return data


def _plan_data(plan: FixPlan) -> dict[str, Any]:
    return {
        "fixer": plan.fixer,
        "safety": plan.safety,
        "description": plan.description,
        "edits": [{"path": edit.path, "action": edit_action(edit)} for edit in plan.edits],
        "diff": plan.diff(),
        "commands": [
            {
                "argv": list(step.argv),
                "display": step.display(),
                "cwd": step.cwd,
                "description": step.description,
            }
            for step in plan.commands
        ],
        "steps": list(plan.steps),
        "env": dict(plan.env),
    }


def edit_action(edit: FileEdit) -> str:
    if edit.before is None:
        return "create"
    if edit.after is None:
        return "delete"
    return "modify"


def _failed_fixes(result: CheckResult) -> dict[tuple[str, str, tuple[str, ...]], str]:
    return {
        verification_key(outcome.finding): outcome.error or "not applied"
        for outcome in result.fixes
        if not outcome.applied
    }


def _relative(result: CheckResult, path: Any) -> str | None:
    if path is None:
        return None
    try:
        return str(path.relative_to(result.context.root.resolve()).as_posix())
    except ValueError:
        return str(path)


def sarif_data(result: CheckResult) -> dict[str, Any]:
    """Return a SARIF 2.1.0 log of the open findings of `result`.

    Fixed and verified findings are left out: SARIF consumers such as code
    scanning treat every result as a problem still present.
    """
    rules = _sarif_rules(result)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = [_sarif_result(finding, index[finding.rule.id]) for finding in result.open_findings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deploy-kit",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": result.exit_code,
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    redacted: dict[str, Any] = redact_tree(log)
    return redacted


def _sarif_rules(result: CheckResult) -> list[dict[str, Any]]:
    seen: dict[str, Rule] = {}
    for finding in result.open_findings:
        seen.setdefault(finding.rule.id, finding.rule)
    return [
        {
            "id": rule.id,
            "name": _pascal_name(rule.id),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.why},
            "help": {"text": rule.manual_steps},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
            "properties": {
                "scopes": sorted(rule.scopes),
                "fixSafety": rule.fix.safety if rule.fix is not None else None,
                "ruleSource": rule.location,
            },
            **({"helpUri": rule.references[0]} if rule.references else {}),
        }
        for rule in seen.values()
    ]


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    physical = [source for source in finding.evidence if source.file]
    logical = [
        source for source in finding.evidence if not source.file and (source.command or source.api)
    ]
    locations: list[dict[str, Any]] = [_physical_location(source) for source in physical]
    if logical:
        locations.append({"logicalLocations": [_logical_location(source) for source in logical]})
    data: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": locations,
    }
    plan = finding.plan
    if plan is not None:
        fix: dict[str, Any] = {"description": {"text": f"{plan.description} ({plan.safety} fix)"}}
        changes = [_artifact_change(edit) for edit in plan.edits]
        if changes:
            fix["artifactChanges"] = changes
            data["fixes"] = [fix]
        data["properties"] = {
            "fixSafety": plan.safety,
            "fixDescription": plan.description,
            "fixCommands": [step.display() for step in plan.commands],
            "fixSteps": list(plan.steps),
        }
    return data


def _physical_location(source: Source) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(source.file or "")}}
    if source.line:
        physical["region"] = {"startLine": int(source.line)}
    return {"physicalLocation": physical}


def _logical_location(source: Source) -> dict[str, Any]:
    if source.api:
        return {"name": source.api, "fullyQualifiedName": f"aws:{source.api}", "kind": "resource"}
    return {"name": source.command, "kind": "resource"}


def _artifact_change(edit: FileEdit) -> dict[str, Any]:
    before = edit.before or b""
    replacement: dict[str, Any] = {"deletedRegion": {"byteOffset": 0, "byteLength": len(before)}}
    if edit.after is not None:
        try:
            replacement["insertedContent"] = {"text": edit.after.decode("utf-8")}
        except UnicodeDecodeError:
            replacement["insertedContent"] = {
                "binary": base64.b64encode(edit.after).decode("ascii")
            }
    return {"artifactLocation": {"uri": _uri(edit.path)}, "replacements": [replacement]}


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/")


def _pascal_name(rule_id: str) -> str:
    words = rule_id.replace("/", "-").split("-")
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def redact_tree(value: Any) -> Any:
    """Return `value` with `redact` applied to every string in it, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_tree(key): redact_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(item) for item in value]
    return value
