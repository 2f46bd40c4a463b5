"""Report rendering: the summary line, JSON, SARIF against its schema, and redaction."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from deploykit.checks import CheckResult, run_checks
from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from deploykit.errors import UsageError
from deploykit.render import render_report, summary_line
from engine.facts import Fact, FactIndex, Source
from engine.matcher import evaluate
from engine.matching import compile_match
from engine.model import Finding, Rule
from engine.plan import CommandStep, FileEdit, FixPlan
from tests.test_doctor_cli import PROJECT_RULES

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
SECRET = "AKIAIOSFODNN7EXAMPLE"


def make_rule(rule_id: str, severity: str, message: str = "{value}") -> Rule:
    match = {"kind": "thing", "where": {"field": "rule", "op": "==", "value": rule_id}}
    matcher, kinds, aliases = compile_match(match)
    return Rule(
        id=rule_id,
        title=f"title of {rule_id}",
        severity=severity,  # type: ignore[arg-type]
        scopes=frozenset({"doctor"}),
        message=message,
        why="why",
        manual_steps="steps",
        match=match,
        matcher=matcher,
        kinds=kinds,
        aliases=aliases,
    )


def finding(rule_id: str, severity: str, plan: FixPlan | None = None, **state: Any) -> Finding:
    rule = make_rule(rule_id, severity)
    fact = Fact(
        "thing",
        {"rule": rule_id, "value": f"value of {rule_id}"},
        Source(file="sst.config.ts", line=3),
    )
    found = evaluate([rule], FactIndex([fact]))[0]
    return Finding(found.rule, found.message, found.evidence, found.match, plan, **state)


def result_of(*findings: Finding, root: Path = Path("/project")) -> CheckResult:
    return CheckResult(
        context=RunContext(root=root, offline=True),
        rules=[],
        findings=list(findings),
        facts=FactIndex(),
    )


def manual(rule_id: str) -> FixPlan:
    return FixPlan(rule_id, "explain", "manual", "do it by hand", steps=("step one",))


def safe(rule_id: str) -> FixPlan:
    return FixPlan(
        rule_id, "replace-text", "safe", "edit", edits=(FileEdit("a.ts", b"a\n", b"b\n"),)
    )


def test_summary_line_matches_documented_form() -> None:
    result = result_of(
        finding("x/e1", "error", manual("x/e1")),
        finding("x/e2", "error", manual("x/e2")),
        finding("x/e3", "error"),
        finding("x/w1", "warning", manual("x/w1")),
        finding("x/w2", "warning", manual("x/w2")),
        finding("x/f1", "error", safe("x/f1"), fixed=True, verified=True),
        finding("x/f2", "warning", safe("x/f2"), fixed=True, verified=True),
    )

    assert (
        summary_line(result) == "3 errors, 2 warnings; 2 fixed and verified; 4 manual fixes waiting"
    )


def test_summary_line_singular_and_extras() -> None:
    result = result_of(
        finding("x/e1", "error", safe("x/e1")),
        finding("x/i1", "info"),
        finding("x/f1", "error", safe("x/f1"), fixed=True, verified=False),
    )

    assert summary_line(result) == (
        "2 errors, 0 warnings, 1 info; 0 fixed and verified; 1 fixed but still found; "
        "0 manual fixes waiting; 1 safe fix available with --fix"
    )


def test_exit_code_counts_unverified_fix_as_error() -> None:
    assert (
        result_of(finding("x/f1", "error", safe("x/f1"), fixed=True, verified=False)).exit_code == 1
    )
    assert (
        result_of(finding("x/f1", "error", safe("x/f1"), fixed=True, verified=True)).exit_code == 0
    )
    assert result_of(finding("x/w1", "warning")).exit_code == 0


def test_render_report_unknown_format_raises() -> None:
    with pytest.raises(UsageError, match="unknown report format 'xml'"):
        render_report(result_of(), "xml", io.StringIO())


def rendered(result: CheckResult, output_format: str) -> str:
    stream = io.StringIO()
    render_report(result, output_format, stream, width=100)
    return stream.getvalue()


def secret_result() -> CheckResult:
    plan = FixPlan(
        "x/leak",
        "explain",
        "manual",
        f"rotate {SECRET}",
        edits=(FileEdit(".env", f"KEY={SECRET}\n".encode(), b"KEY=\n"),),
        commands=(CommandStep(("aws", "iam", "delete-access-key", "--access-key-id", SECRET)),),
        steps=(f"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and {SECRET}",),
        env={"TOKEN_ID": SECRET},
    )
    return result_of(finding("x/leak", "error", plan), finding("x/leak2", "warning"))


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_render_redacts_secrets(output_format: str) -> None:
    result = secret_result()
    result.findings[1] = Finding(
        result.findings[1].rule,
        f"key {SECRET} in .env",
        result.findings[1].evidence,
        result.findings[1].match,
    )

    output = rendered(result, output_format)

    assert SECRET not in output
    assert "wJalrXUtnFEMI" not in output
    assert "[REDACTED]" in output


def test_text_report_width_and_sections() -> None:
    output = rendered(secret_result(), "text")

    assert "Errors (1)" in output
    assert "Warnings (1)" in output
    assert "at sst.config.ts:3" in output
    assert "fix (manual): rotate [REDACTED]" in output
    assert max(len(line) for line in output.splitlines()) <= 100
    assert "\x1b[" not in output


def test_json_report_fields(tmp_path: Path) -> None:
    report = json.loads(
        rendered(result_of(finding("x/e1", "error", safe("x/e1")), root=tmp_path), "json")
    )

    assert report["schema_version"] == 1
    assert report["summary"]["safe_fixes_available"] == 1
    item = report["findings"][0]
    assert item["evidence"] == [{"display": "sst.config.ts:3", "file": "sst.config.ts", "line": 3}]
    assert item["fix"]["edits"] == [{"path": "a.ts", "action": "modify"}]
    assert item["fix"]["diff"].startswith("--- a/a.ts\n+++ b/a.ts\n")
    assert item["status"] == "open"


@pytest.fixture
def fixed_broken(copy_project: Callable[[str], Path]) -> CheckResult:
    root = copy_project("broken")
    (root / ".deploy-kit" / "rules").mkdir(parents=True)
    (root / ".deploy-kit" / "rules" / "local.yaml").write_text(PROJECT_RULES, encoding="utf-8")
    context = RunContext(root=root, offline=True)
    return run_checks(context, select_rules(load_rules(root), "doctor"), fix=True)


def test_sarif_validates_against_schema(fixed_broken: CheckResult) -> None:
    log = json.loads(rendered(fixed_broken, "sarif"))

    errors = sorted(Draft4Validator(SCHEMA).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["results"]


def test_sarif_with_edits_and_api_evidence_validates() -> None:
    api = Finding(
        make_rule("aws/x", "error"),
        "no identity",
        (Source(api="sts:GetCallerIdentity"),),
        finding("aws/x", "error").match,
        safe("aws/x"),
    )
    log = json.loads(rendered(result_of(api, finding("x/w", "warning", manual("x/w"))), "sarif"))

    assert not list(Draft4Validator(SCHEMA).iter_errors(log))
    first = log["runs"][0]["results"][0]
    assert first["locations"][0]["logicalLocations"][0]["name"] == "sts:GetCallerIdentity"
    assert first["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": "b\n"
    }
    assert log["runs"][0]["results"][1]["level"] == "warning"


def test_sarif_leaves_out_verified_fixes(fixed_broken: CheckResult) -> None:
    log = json.loads(rendered(fixed_broken, "sarif"))

    rule_ids = {result["ruleId"] for result in log["runs"][0]["results"]}
    assert "local/interpolate-api-url" not in rule_ids
    assert "local/drop-ppr" in rule_ids


def test_sarif_rule_index_points_at_rule(fixed_broken: CheckResult) -> None:
    run = json.loads(rendered(fixed_broken, "sarif"))["runs"][0]

    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_summary_line_counts_fix_checked_next_run() -> None:
    result = result_of(finding("x/f1", "error", safe("x/f1"), fixed=True, verified=None))

    assert summary_line(result) == (
        "0 errors, 0 warnings; 0 fixed and verified; 1 fixed, checked on the next SST run; "
        "0 manual fixes waiting"
    )
    assert result.exit_code == 0


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def colour_codes(text: str) -> list[str]:
    """Return the SGR parameters in `text` that set a foreground or background colour."""
    codes = []
    for parameters in re.findall(r"\x1b\[([0-9;]*)m", text):
        for code in parameters.split(";"):
            if code and (30 <= int(code) <= 49 or 90 <= int(code) <= 107):
                codes.append(code)
    return codes


def test_text_report_colours_only_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    terminal = TerminalStream()

    render_report(secret_result(), "text", terminal, width=100)

    assert colour_codes(terminal.getvalue())


def test_text_report_no_color_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = TerminalStream()

    render_report(secret_result(), "text", terminal, width=100)

    # NO_COLOR removes colour only; bold and dim may stay.
    assert colour_codes(terminal.getvalue()) == []
