"""Render a `CheckResult` as text (rich), JSON or SARIF.

Text output respects `NO_COLOR` and prints no colour when the stream is not a
terminal; `width` fixes the line width (tests use it for stable snapshots).
Every string from a finding, a fact or a plan goes through
`engine.redact.redact` before it is printed, in every format.
"""

from __future__ import annotations

import io
import json
import re
from typing import IO, Any

from deploykit.checks import CheckResult
from deploykit.errors import UsageError
from engine.model import Finding
from engine.plan import FixPlan
from engine.redact import redact

FORMATS = ("text", "json", "sarif")
SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    # severity, heading, marker, style
    ("error", "Errors", "✖", "bold red"),
    ("warning", "Warnings", "▲", "bold yellow"),
    ("info", "Info", "•", "bold blue"),
)


def render_report(
    result: CheckResult,
    output_format: str,
    stream: IO[str],
    *,
    width: int | None = None,
) -> None:
    """Write the report of `result` to `stream` in `output_format` (text, json or sarif)."""
    if output_format == "json":
        from deploykit.render_data import report_data

        _write_json(report_data(result), stream)
    elif output_format == "sarif":
        from deploykit.render_data import sarif_data

        _write_json(sarif_data(result), stream)
    elif output_format == "text":
        render_text(result, stream, width=width)
    else:
        raise UsageError(
            f"unknown report format {output_format!r}; use one of {', '.join(FORMATS)}"
        )


def _write_json(data: Any, stream: IO[str]) -> None:
    json.dump(data, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def summary_line(result: CheckResult) -> str:
    """Return the one-line summary, such as
    "3 errors, 2 warnings; 2 fixed and verified; 4 manual fixes waiting".
    """
    parts = [
        f"{_plural(result.count('error'), 'error')}, {_plural(result.count('warning'), 'warning')}"
    ]
    info = result.count("info")
    if info:
        parts[0] += f", {info} info"
    parts.append(f"{result.fixed_verified} fixed and verified")
    if result.fixed_unverified:
        parts.append(f"{result.fixed_unverified} fixed but still found")
    if result.fixed_next_run:
        parts.append(f"{result.fixed_next_run} fixed, checked on the next SST run")
    parts.append(f"{_plural(result.manual_waiting, 'manual fix', 'manual fixes')} waiting")
    if result.safe_available:
        parts.append(
            f"{_plural(result.safe_available, 'safe fix', 'safe fixes')} available with --fix"
        )
    return "; ".join(parts)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def render_text(result: CheckResult, stream: IO[str], *, width: int | None = None) -> None:
    from rich.text import Text

    buffer = io.StringIO()
    console = _console(buffer, stream, width)
    header = Text()
    header.append(f"deploy-kit {result.context.scope}", style="bold")
    header.append(f"  project {redact(result.context.root.name)}")
    header.append(f"  stage {redact(result.context.stage or '(default)')}")
    if result.context.offline:
        header.append("  offline")
    console.print(header)

    failed = _failed_fix_errors(result)
    for severity, heading, marker, style in SECTIONS:
        findings = [f for f in result.open_findings if f.severity == severity]
        if not findings:
            continue
        console.print()
        console.print(Text(f"{heading} ({len(findings)})", style=style))
        for finding in findings:
            _print_finding(console, finding, marker, style, failed)

    for heading, verified in (("Fixed", True), ("Fixed, checked on the next SST run", None)):
        fixed = [f for f in result.findings if f.fixed and f.verified is verified]
        if not fixed:
            continue
        console.print()
        console.print(Text(f"{heading} ({len(fixed)})", style="bold green"))
        for finding in fixed:
            line = Text("✔ ", style="green")
            line.append(finding.rule.id, style="bold")
            line.append(
                f"  {redact(finding.plan.description if finding.plan else finding.message)}"
            )
            _emit(console, line, 2)
            _emit(console, Text(f"was: {redact(finding.message)}", style="dim"), 4)

    console.print()
    console.print(Text(summary_line(result), style="bold"))
    for hint in _hints(result):
        console.print(Text(hint, style="dim"))
    stream.write(_strip_trailing_blanks(buffer.getvalue()))


def render_finding(finding: Finding, stream: IO[str], *, width: int | None = None) -> None:
    """Write one finding with its evidence and fix, as the text report shows it."""
    buffer = io.StringIO()
    console = _console(buffer, stream, width)
    marker, style = next((m, st) for sev, _, m, st in SECTIONS if sev == finding.severity)
    _print_finding(console, finding, marker, style, {})
    stream.write(_strip_trailing_blanks(buffer.getvalue()))


def _console(buffer: IO[str], stream: IO[str], width: int | None) -> Any:
    """Return a rich console that writes to `buffer` but colours only when `stream` is a TTY.

    rich itself honours NO_COLOR, and COLUMNS when `width` is None.
    """
    from rich.console import Console

    isatty = getattr(stream, "isatty", None)
    return Console(
        file=buffer,
        width=width,
        force_terminal=bool(isatty and isatty()),
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


# Blanks at the end of a line, possibly followed by colour codes. rich pads
# wrapped lines to the console width; snapshots and pasted reports should not
# carry that padding.
_TRAILING_BLANKS = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)


def _strip_trailing_blanks(text: str) -> str:
    return _TRAILING_BLANKS.sub(r"\1", text)


def _print_finding(
    console: Any, finding: Finding, marker: str, style: str, failed: dict[str, str]
) -> None:
    from rich.text import Text

    title = Text(f"{marker} ", style=style)
    title.append(finding.rule.id, style="bold")
    title.append(f"  {redact(finding.rule.title)}")
    _emit(console, title, 2)
    _emit(console, Text(redact(finding.message)), 4)
    for source in finding.evidence:
        _emit(console, Text(f"at {redact(source.describe())}", style="cyan"), 4)
    if finding.fixed and not finding.verified:
        _emit(console, Text("fix applied, but the check still finds this", style="yellow"), 4)
    error = failed.get(id_of(finding))
    if error:
        _emit(console, Text(f"fix not applied: {redact(error)}", style="yellow"), 4)
    if finding.plan is not None:
        _print_plan(console, finding.plan)
    elif finding.rule.manual_steps.strip():
        # A rule without a fix still names the steps; they are prose wrapped in the YAML.
        lines = finding.rule.manual_steps.splitlines()
        steps = " ".join(line.strip() for line in lines if line.strip())
        label = Text("how to fix: ", style="bold")
        label.append(redact(steps))
        _emit(console, label, 4)


def _print_plan(console: Any, plan: FixPlan) -> None:
    from rich.text import Text

    label = Text("fix ", style="bold")
    label.append(f"({plan.safety})", style="green" if plan.safety == "safe" else "magenta")
    label.append(f": {redact(plan.description)}")
    _emit(console, label, 4)
    for line in plan.diff().splitlines():
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        _emit(console, Text(redact(line), style=style, overflow="fold"), 6)
    for step in plan.commands:
        _emit(console, Text(f"$ {redact(step.display())}", overflow="fold"), 6)
    for name, value in plan.env.items():
        _emit(console, Text(f"set {redact(name)}={redact(value)} for the next SST run"), 6)
    for number, step_text in enumerate(plan.steps, start=1):
        _emit(console, Text(f"{number}. {redact(step_text)}"), 6)


def _emit(console: Any, text: Any, indent: int) -> None:
    """Print `text` indented by `indent` columns, keeping the indent on wrapped lines."""
    from rich.padding import Padding

    console.print(Padding(text, (0, 0, 0, indent), expand=False))


def _hints(result: CheckResult) -> list[str]:
    hints = []
    if result.safe_available and not result.fix_requested:
        hints.append(f"Apply the safe fixes with: deploy-kit {result.context.scope} --fix")
    if result.manual_waiting:
        hints.append("Apply one manual fix after review with: deploy-kit fix RULE_ID")
    if result.journal is not None:
        hints.append("Undo the applied fixes with: deploy-kit fix --undo")
    return hints


def id_of(finding: Finding) -> str:
    return f"{finding.rule.id}\0{finding.message}"


def _failed_fix_errors(result: CheckResult) -> dict[str, str]:
    return {id_of(o.finding): o.error or "not applied" for o in result.fixes if not o.applied}
