"""`deploy-kit triage [FILE | -]`: diagnose a saved SST, dev, build or CI log."""

from __future__ import annotations

import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from deploykit.checks import CheckResult
from deploykit.context import RunContext
from deploykit.errors import InputError, UsageError
from deploykit.project import resolve_root
from deploykit.render import FORMATS, render_report
from deploykit.triage import BINARY_PROBE_BYTES, log_summary, triage_log

STDIN_NAME = "<stdin>"


def run_triage(path: Path, log_file: str, *, fix: bool, output_format: str) -> int:
    """Triage `log_file` (or standard input for `-`) for the project at `path`.

    Return 0 when no error-severity finding remains, 1 otherwise.
    """
    if output_format not in FORMATS:
        raise UsageError(
            f"unknown report format {output_format!r}; use one of {', '.join(FORMATS)}"
        )
    root = resolve_root(path)
    context = RunContext(root=root, scope="triage")

    if log_file == "-":
        if sys.stdin.isatty():
            raise UsageError(
                "no log given and standard input is a terminal; pass a log file, "
                "or pipe one in with `| deploy-kit triage -`"
            )
        with tempfile.TemporaryDirectory(prefix="deploy-kit-triage-") as folder:
            spooled = Path(folder) / "stdin.log"
            _spool(sys.stdin.buffer, spooled, "standard input")
            result = triage_log(context, spooled, failure=None, fix=fix, display=STDIN_NAME)
    elif _is_stream(Path(log_file)):
        # A pipe such as `<(gh run view --log)` can be read only once, but the
        # log is read several times (binary probe, stage header, scan).
        with tempfile.TemporaryDirectory(prefix="deploy-kit-triage-") as folder:
            spooled = Path(folder) / "stream.log"
            with open(log_file, "rb") as stream:
                _spool(stream, spooled, repr(log_file))
            result = triage_log(context, spooled, failure=None, fix=fix, display=log_file)
    else:
        result = triage_log(context, Path(log_file), failure=None, fix=fix)

    render_report(result, output_format, sys.stdout)
    # Notes about the input go to stderr, so that json and sarif output stays
    # parseable and the text report stays the same shape as doctor's.
    if output_format == "text":
        for line in log_summary(result):
            print(line, file=sys.stderr)
        if not result.findings:
            print(f"no known failure found in {_names(result) or log_file}", file=sys.stderr)
    return result.exit_code


def _is_stream(path: Path) -> bool:
    """Tell whether `path` is a pipe (FIFO), whose bytes can be read only once."""
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _spool(stream: BinaryIO, target: Path, name: str) -> None:
    """Copy `stream` to `target` in blocks, rejecting binary input early.

    `name` is how errors call the input.
    """
    head = stream.read(BINARY_PROBE_BYTES)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{name} is binary (NUL byte at offset {nul}), not a text log; "
            "pass the log SST or CI printed"
        )
    with target.open("wb") as output:
        output.write(head)
        shutil.copyfileobj(stream, output, 1 << 20)


def _names(result: CheckResult) -> str:
    return ", ".join(str(fact.get("file")) for fact in result.facts.of_kind("log.source"))
