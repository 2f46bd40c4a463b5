"""`deploy-kit dev`: pre-flight checks, then `sst dev` with signals forwarded.

The checks are the engine's `dev` scope with safe fixes applied; errors that
remain block the start unless `--skip-checks` is given. When the requested
port is taken, the next free one (of `PORT_SCAN` after it) is passed to the
dev server as `PORT`. If `sst dev` exits with an error, its output and
`.sst/log/sst.log` are triaged together.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from pathlib import Path

from deploykit.context import RunContext
from deploykit.deploy.summary import Output
from deploykit.errors import UsageError
from deploykit.project import resolve_root

PORT_SCAN = 20
MAX_PORT = 65535
EXIT_INTERRUPTED = 130
SST_LOG_MARKER = "--- .sst/log/sst.log ---"


def run_dev(
    path: Path, *, stage: str | None, profile: str | None, port: int, skip_checks: bool,
    verbose: bool,
) -> int:
    from deploykit.layout import find_layout
    from deploykit.stages import validate_stage_name

    root = resolve_root(path)
    stage = stage or default_dev_stage(find_layout(root).sst_dir)
    validate_stage_name(stage, [])
    output = Output()
    context = RunContext(root=root, scope="dev", stage=stage, profile=profile, extra={"port": port})

    if not skip_checks and not preflight(context, output):
        output.fail("fix the errors above, or start anyway with --skip-checks")
        return 1

    chosen = next_free_port(port)
    if chosen != port:
        output.warn(f"port {port} is in use; starting the dev server on port {chosen}")
    return start_sst_dev(context, output, port=chosen, verbose=verbose)


def default_dev_stage(sst_dir: Path) -> str:
    """Return the personal stage SST stored in `.sst/stage`, else one made from the user name."""
    try:
        stored = (sst_dir / ".sst" / "stage").read_text(encoding="utf-8").strip()
    except OSError:
        stored = ""
    if stored:
        return stored
    name = re.sub(r"[^a-z0-9-]+", "-", getpass.getuser().lower()).strip("-")
    if not name:
        raise UsageError("cannot derive a personal stage from the user name; pass --stage NAME")
    return name


def preflight(context: RunContext, output: Output) -> bool:
    """Run the `dev` rules with safe fixes; return False when errors remain."""
    from deploykit.checks import run_checks
    from deploykit.diagnosis import load_rules, select_rules
    from deploykit.render import render_report

    output.heading(f"Pre-flight checks for sst dev --stage {context.stage}")
    rules = select_rules(load_rules(context.root), "dev")
    result = run_checks(context, rules, fix=True)
    if result.findings or result.fixes:
        render_report(result, "text", output.stream)
    else:
        output.note("no problems found")
    return result.exit_code == 0


def next_free_port(port: int) -> int:
    """Return `port` when free, else the first free one of the `PORT_SCAN` after it (max 65535)."""
    from deploykit.procinfo import port_is_free

    last = min(port + PORT_SCAN, MAX_PORT)
    for candidate in range(port, last + 1):
        if port_is_free(candidate):
            return candidate
    raise UsageError(f"ports {port} to {last} are all in use; stop a dev server or pass --port N")


def start_sst_dev(context: RunContext, output: Output, *, port: int, verbose: bool) -> int:
    """Run `sst dev --stage STAGE` until it exits; triage its output when it fails."""
    from deploykit.sst import (
        SST_LOG_FILE,
        DevOutputSink,
        LineSink,
        PlainSink,
        build_sst_command,
        new_log_path,
        run_sst,
    )

    assert context.stage is not None
    command = build_sst_command(
        context.root, context.stage, "dev", profile=_profile(context), base_env=os.environ,
    )
    command.env["PORT"] = str(port)
    log_path = new_log_path(context.root, f"{context.stage}-dev")
    output.heading(f"Starting {command.describe()} (port {port})")
    sink: LineSink = PlainSink(sys.stdout) if verbose else DevOutputSink(sys.stdout)

    result = run_sst(command, log_path=log_path, sink=sink)
    if result.interrupted:
        output.note(f"sst dev stopped; log: {log_path}")
        return EXIT_INTERRUPTED
    if result.exit_code == 0:
        output.note(f"sst dev exited; log: {log_path}")
        return 0

    output.fail(f"sst dev exited with code {result.exit_code}; log: {log_path}")
    if not _collector_reads_sst_log(log_path, command.cwd, context.root):
        append_sst_log(log_path, command.cwd / SST_LOG_FILE)
    return triage_dev_failure(context, output, log_path, result.exit_code)


def append_sst_log(log_path: Path, sst_log: Path) -> None:
    """Append SST's own log after a marker line, so that one triage reads both."""
    try:
        text = sst_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    with log_path.open("a", encoding="utf-8") as stream:
        stream.write(f"{SST_LOG_MARKER}\n{text}")
        if text and not text.endswith("\n"):
            stream.write("\n")


def _collector_reads_sst_log(log_path: Path, sst_dir: Path, root: Path) -> bool:
    """Tell whether the log collector will read `.sst/log/sst.log` by itself.

    It does when the output points at that file and SST ran in the project root.
    """
    from deploykit.collectors.logs import SST_LOG_POINTER

    if sst_dir.resolve() != root.resolve():
        return False
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return re.search(SST_LOG_POINTER, text) is not None


def triage_dev_failure(context: RunContext, output: Output, log_path: Path, exit_code: int) -> int:
    from deploykit.render import render_report
    from deploykit.triage import triage_log

    failure = {"stage": context.stage, "exit_code": exit_code, "phase": "dev"}
    result = triage_log(context, log_path, failure=failure, fix=True)
    output.heading("Diagnosis of the failed sst dev")
    render_report(result, "text", output.stream)
    return 1


def _profile(context: RunContext) -> str | None:
    if context.profile:
        return context.profile
    from deploykit.aws.session import aws_run

    value: str | None = aws_run(context).profile.value
    return value
