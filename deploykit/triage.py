"""Diagnose a failed run from its log: the `triage` scope over `log.line` facts.

`deploy` and `dev` call `triage_log` after a failure; `deploy-kit triage`
calls it for a saved log. The log collector (`deploykit.collectors.logs`)
reads the file in blocks and keeps only the lines the rules' patterns match.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deploykit.checks import CheckResult, run_checks
from deploykit.context import RunContext
from deploykit.errors import InputError
from engine.logfacts import text_patterns
from engine.model import Finding, Rule

log = logging.getLogger(__name__)

# Bytes read to tell a binary file from a text log: a NUL byte here means binary.
BINARY_PROBE_BYTES = 8192
# Bytes read to find SST's `Stage:` header before the whole log is scanned.
HEADER_PROBE_BYTES = 64 << 10


def triage_log(
    context: RunContext,
    log_path: Path,
    *,
    failure: Mapping[str, Any] | None,
    fix: bool,
    rules: Sequence[Rule] | None = None,
    display: str | None = None,
) -> CheckResult:
    """Run the `triage` rules over the log at `log_path`.

    `failure` contains what the caller recorded of the failed run (`stage`,
    `exit_code`, `phase`). It becomes the `deploy.failure` fact, and any
    missing value is read from the log. `display` is the name evidence gives
    the log (default: the path relative to the project root). Raise `InputError` for a
    missing, unreadable or binary file.
    """
    check_log_file(log_path)
    if rules is None:
        from deploykit.diagnosis import load_rules, select_rules

        rules = select_rules(load_rules(context.root), "triage")

    patterns, unscannable = text_patterns(rules)
    for rule_id in unscannable:
        log.warning(
            "rule %s tests log lines without a pattern on `text`; its lines are not read", rule_id
        )

    extra = dict(context.extra)
    extra.update({"log_patterns": patterns, "failure": dict(failure) if failure else None})
    if display:
        extra["log_display"] = display
    stage = context.stage or (failure or {}).get("stage") or stage_in_header(log_path)
    triage_context = dataclasses.replace(
        context, scope="triage", log_path=log_path, extra=extra, stage=stage,
    )
    result = run_checks(triage_context, rules, fix=fix)
    result.findings = merge_repeated(result.findings)
    return result


def merge_repeated(findings: Sequence[Finding]) -> list[Finding]:
    """Merge findings of one rule with the same message into one with every evidence line.

    A log often repeats an error (retries, a stack of wrapped errors), and one
    finding per line would bury the other findings. Messages that differ only
    by the log line they quote count as the same.
    """
    merged: dict[tuple[str, str, bool, bool | None], Finding] = {}
    for finding in findings:
        message = finding.message
        quoted = finding.fact.get("text") if finding.fact is not None else None
        if finding.fact is not None and finding.fact.kind == "log.line" and isinstance(quoted, str):
            message = message.replace(quoted, "\0") if quoted else message
        key = (finding.rule.id, message, finding.fixed, finding.verified)
        first = merged.get(key)
        if first is None:
            merged[key] = finding
            continue
        evidence = first.evidence + tuple(s for s in finding.evidence if s not in first.evidence)
        # Quote the line that states the error, not a line of context before it.
        message = first.message
        if not _states_error(first) and _states_error(finding):
            message = finding.message
        merged[key] = dataclasses.replace(first, evidence=evidence, message=message)
    return list(merged.values())


ERROR_WORDS = re.compile(r"(?i)\berror\b|\bfailed\b|✕")


def _states_error(finding: Finding) -> bool:
    text = finding.fact.get("text") if finding.fact is not None else None
    return isinstance(text, str) and ERROR_WORDS.search(text) is not None


def stage_in_header(path: Path) -> str | None:
    """Return the stage SST prints in the header of its output (`Stage: NAME`), if any.

    The stage decides where `--fix` stores settings for the next SST run, so it
    is needed before the log is scanned. SST prints the header first, so the
    first `HEADER_PROBE_BYTES` are enough.
    """
    from deploykit.collectors.logs import STAGE_HEADER
    from engine.logfacts import clean_block
    from engine.patterns import compile_pattern

    with path.open("rb") as stream:
        head = clean_block(stream.read(HEADER_PROBE_BYTES))
    found = compile_pattern(f"(?m){STAGE_HEADER}").search(head.decode("utf-8", errors="replace"))
    return found.group("stage") if found is not None else None


def check_log_file(path: Path) -> None:
    """Raise `InputError` unless `path` is a readable text file."""
    name = str(path)
    if path.is_dir():
        raise InputError(
            f"{name!r} is a folder, not a log file; pass the saved log file or - for standard input"
        )
    try:
        with path.open("rb") as stream:
            head = stream.read(BINARY_PROBE_BYTES)
    except FileNotFoundError:
        raise InputError(
            f"log file {name!r} not found; pass the saved log file or - for standard input"
        ) from None
    except OSError as error:
        raise InputError(
            f"cannot read log file {name!r}: {error.strerror}; check its permissions"
        ) from None

    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{name!r} is a binary file (NUL byte at offset {nul}), not a text log; "
            "pass the log SST or CI printed"
        )


def log_summary(result: CheckResult) -> list[str]:
    """Describe what was read: each log, its size, decoding problems and cut-off patterns."""
    lines: list[str] = []
    for source in result.facts.of_kind("log.source"):
        name = source.get("file")
        count = source.get("lines")
        followed = source.get("followed_from")
        text = f"read {name}: {count} lines"
        if followed:
            text += f" (the log {followed} points at it)"
        lines.append(text)
        if source.get("replaced_bytes"):
            lines.append(f"{name} has bytes that are not UTF-8; they were read as U+FFFD")
        for pattern in source.get("truncated_patterns") or []:
            lines.append(
                f"pattern {pattern!r} matched many lines of {name}; only the first were kept"
            )
    return lines
