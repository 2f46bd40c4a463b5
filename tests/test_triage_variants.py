"""Every case log still finds its rule with ANSI colours, CI timestamps and CRLF line ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deploykit.context import RunContext
from deploykit.diagnosis import load_rules, select_rules
from deploykit.triage import merge_repeated, triage_log
from engine.model import Rule
from tests.conftest import CASES
from tests.test_triage_cli import CASE_LOGS


def _ansi(line: str) -> str:
    # Colour the first word and reset in the middle of the line, as SST's TUI does.
    head, _, rest = line.partition(" ")
    middle = len(rest) // 2
    return f"\x1b[1;31m{head}\x1b[0m {rest[:middle]}\x1b[2m{rest[middle:]}\x1b[0m"


def _timestamp(line: str) -> str:
    return f"2026-03-02T10:15:01.1234567Z {line}"


VARIANTS: dict[str, Callable[[str], str]] = {
    "ansi": _ansi,
    "timestamps": _timestamp,
    "ansi-and-timestamps": lambda line: _timestamp(_ansi(line)),
}


@pytest.fixture(scope="module")
def triage_rules() -> list[Rule]:
    return select_rules(load_rules(), "triage")


def _write_variant(source: Path, target: Path, change: Callable[[str], str], newline: str) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    target.write_bytes("".join(change(line) + newline for line in lines).encode("utf-8"))


@pytest.mark.parametrize("variant", [*VARIANTS, "crlf"])
@pytest.mark.parametrize(
    ("case", "log", "rule_id", "line", "named"),
    CASE_LOGS,
    ids=[row[0] for row in CASE_LOGS],
)
def test_triage_variant_finds_rule(
    tmp_path: Path,
    triage_rules: list[Rule],
    variant: str,
    case: str,
    log: str,
    rule_id: str,
    line: int,
    named: str,
) -> None:
    path = tmp_path / log
    change = VARIANTS.get(variant, lambda text: text)
    _write_variant(CASES / case / log, path, change, "\r\n" if variant == "crlf" else "\n")

    result = triage_log(
        RunContext(root=tmp_path), path, failure=None, fix=False, rules=triage_rules
    )

    findings = [f for f in result.findings if f.rule.id == rule_id]
    assert findings, [f.rule.id for f in result.findings]
    assert any(source.line == line for f in findings for source in f.evidence)
    assert any(named in f.message for f in findings)
    assert not any("\x1b" in f.message or "\r" in f.message for f in findings)


def test_triage_failure_given_by_caller(tmp_path: Path, triage_rules: list[Rule]) -> None:
    log = CASES / "stage-lock-left-after-an-interrupted-ci-deploy" / "deploy.log"
    failure = {"stage": "qa", "exit_code": 1, "phase": "deploy"}

    result = triage_log(
        RunContext(root=tmp_path), log, failure=failure, fix=False, rules=triage_rules
    )

    facts = result.facts.of_kind("deploy.failure")
    assert [fact.get("stage") for fact in facts] == ["qa"]
    assert facts[0].get("exit_code") == 1
    assert result.context.stage == "qa"


def test_triage_failure_read_from_log(tmp_path: Path, triage_rules: list[Rule]) -> None:
    log = CASES / "stage-lock-left-after-an-interrupted-ci-deploy" / "deploy.log"

    result = triage_log(RunContext(root=tmp_path), log, failure=None, fix=False, rules=triage_rules)

    fact = result.facts.of_kind("deploy.failure")[0]
    assert fact.get("stage") == "production"
    assert fact.get("phase") == "deploy"
    assert fact.get("exit_code") is None


def test_merge_repeated_keeps_every_line(tmp_path: Path, triage_rules: list[Rule]) -> None:
    log = tmp_path / "dev.log"
    log.write_text(
        "Error: listen EADDRINUSE: address already in use :::3000\n"
        "[restarting]\n"
        "Error: listen EADDRINUSE: address already in use 0.0.0.0:3000\n",
        encoding="utf-8",
    )

    result = triage_log(RunContext(root=tmp_path), log, failure=None, fix=False, rules=triage_rules)

    findings = [f for f in result.findings if f.rule.id == "log-node/port-in-use"]
    assert len(findings) == 1
    assert [source.line for source in findings[0].evidence] == [1, 3]
    assert merge_repeated(findings) == findings


def test_triage_counts_identical_lines(tmp_path: Path, triage_rules: list[Rule]) -> None:
    log = tmp_path / "dev.log"
    log.write_text(
        "Error: listen EADDRINUSE: address already in use :::3000\n" * 300, encoding="utf-8"
    )

    result = triage_log(RunContext(root=tmp_path), log, failure=None, fix=False, rules=triage_rules)

    lines = result.facts.of_kind("log.line")
    assert [fact.get("line") for fact in lines] == [1]
    assert lines[0].get("repeats") == 200
    assert len([f for f in result.findings if f.rule.id == "log-node/port-in-use"]) == 1
