"""Run the project's own SST CLI, stream its output and keep the full log.

SST runs through the project's package manager, which the lockfile or the
`packageManager` field selects (npm, pnpm, yarn or bun). A
`node_modules/.bin/sst` found walking up from the project is preferred, and
every invocation carries `--stage STAGE`. Its environment adds
the stored run settings for the stage and `AWS_PROFILE` for the resolved
profile.

SST starts in its own process group. Ctrl-C (SIGINT) and SIGTERM received by
deploy-kit are forwarded to that whole group, so SST can cancel and release its
state lock. deploy-kit then waits for SST to exit and returns a result marked
`interrupted`, so callers still release their own locks and keep the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from deploykit.errors import InputError

log = logging.getLogger(__name__)

LOG_DIR = Path(".deploy-kit") / "logs"
OUTPUTS_FILE = Path(".sst") / "outputs.json"
SST_LOG_FILE = Path(".sst") / "log" / "sst.log"
WINDOW_LINES = 12
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class SstCommand:
    """An SST invocation ready to start: argv, working folder and full environment."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    stage: str

    def describe(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class ProcessResult:
    """The exit code, duration and kept log of a finished streamed process."""

    exit_code: int
    log_path: Path
    duration: float
    interrupted: bool = False
    tail: tuple[str, ...] = field(default_factory=tuple)
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.interrupted


class LineSink(Protocol):
    """A destination for the output lines of a running process."""

    def write(self, line: str) -> None: ...

    def close(self, result: ProcessResult) -> None: ...


def build_sst_command(
    root: Path, stage: str, subcommand: str, args: Sequence[str] = (), *,
    profile: str | None = None, base_env: Mapping[str, str] | None = None,
) -> SstCommand:
    """Build `sst SUBCOMMAND ARGS --stage STAGE` for the project at `root`."""
    from deploykit.layout import find_layout
    from deploykit.packagemanager import detect_package_manager, exec_argv
    from deploykit.runsettings import load_run_env

    folder = find_layout(root).sst_dir
    manager = detect_package_manager(folder)
    argv = exec_argv(manager, "sst", [subcommand, *args, "--stage", stage])

    env = dict(os.environ if base_env is None else base_env)
    env.update(load_run_env(root, stage))
    if profile:
        env["AWS_PROFILE"] = profile
    return SstCommand(argv=argv, cwd=folder, env=env, stage=stage)


def new_log_path(root: Path, name: str, now: datetime | None = None) -> Path:
    """Return a fresh `.deploy-kit/logs/NAME-TIMESTAMP.log` path (UTC, never reused)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = root / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{stamp}.log"
    suffix = 1
    while path.exists():
        suffix += 1
        path = folder / f"{name}-{stamp}-{suffix}.log"
    return path


def run_streamed(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path, sink: LineSink,
    tail_lines: int = 40, timeout: float | None = None,
) -> ProcessResult:
    """Run `argv` in its own process group, sending each output line to the log and `sink`.

    Standard error is merged into standard output so the log keeps SST's order.
    After `timeout` seconds the group gets SIGTERM, then SIGKILL
    `KILL_GRACE_SECONDS` later.
    """
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=tail_lines)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    interrupted = False

    try:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    except FileNotFoundError as error:
        raise InputError(
            f"cannot run {argv[0]!r}: {error.strerror}; install the project's dependencies "
            "(for example `npm install`) so that SST is in node_modules/.bin"
        ) from None
    log.info("started %s (pid %d) in %s", " ".join(argv), process.pid, cwd)

    def forward(number: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        interrupted = True
        log.info("forwarding %s to process group %d", signal.Signals(number).name, process.pid)
        _signal_group(process.pid, number)

    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        log.warning(
            "%s timed out after %g s; stopping process group %d", argv[0], timeout, process.pid,
        )
        _signal_group(process.pid, signal.SIGTERM)
        if not _wait_quietly(process, KILL_GRACE_SECONDS):
            _signal_group(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, stop) if timeout else None
    previous = _install_handlers(forward)
    try:
        if timer is not None:
            timer.daemon = True
            timer.start()
        with log_path.open("w", encoding="utf-8") as log_file:
            _pump(process.stdout, log_file, sink, tail)
            exit_code = process.wait()
    finally:
        if timer is not None:
            timer.cancel()
        _restore_handlers(previous)

    result = ProcessResult(
        exit_code=exit_code, log_path=log_path, duration=time.monotonic() - started,
        interrupted=interrupted, tail=tuple(tail), timed_out=timed_out.is_set(),
    )
    log.info("%s exited with %d after %.1f s", argv[0], exit_code, result.duration)
    sink.close(result)
    return result


def run_sst(command: SstCommand, *, log_path: Path, sink: LineSink) -> ProcessResult:
    """Run a built SST command with live output and the complete log at `log_path`."""
    return run_streamed(
        command.argv, cwd=command.cwd, env=command.env, log_path=log_path, sink=sink,
    )


def _pump(stream: IO[bytes] | None, log_file: IO[str], sink: LineSink, tail: deque[str]) -> None:
    if stream is None:
        return
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        log_file.write(line + "\n")
        log_file.flush()
        tail.append(line)
        sink.write(line)


def _signal_group(group: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, number)


def _wait_quietly(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _install_handlers(handler: Any) -> dict[int, Any]:
    """Install `handler` for the forwarded signals; only the main thread may do so."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.signal(number, handler) for number in FORWARDED_SIGNALS}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)


def read_outputs(sst_dir: Path) -> dict[str, Any]:
    """Return the outputs SST wrote to `.sst/outputs.json`, or {} when there are none."""
    path = sst_dir / OUTPUTS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning("ignoring unreadable %s: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}


def output_urls(outputs: Mapping[str, Any]) -> list[str]:
    """Return the output values that are http(s) URLs, in output order."""
    return [
        value for value in outputs.values()
        if isinstance(value, str) and value.startswith(("https://", "http://"))
    ]


def output_distribution_id(outputs: Mapping[str, Any]) -> str | None:
    """Return a CloudFront distribution id from the outputs (a key such as `distributionId`)."""
    for key, value in outputs.items():
        if isinstance(value, str) and "distribution" in key.lower() and value.isalnum():
            return value
    return None


class PlainSink:
    """A sink that prints every line as it arrives (non-terminal output, or `--verbose`)."""

    def __init__(self, stream: IO[str] | None = None, prefix: str = "") -> None:
        self.stream = stream or sys.stdout
        self.prefix = prefix

    def write(self, line: str) -> None:
        self.stream.write(f"{self.prefix}{line}\n")
        self.stream.flush()

    def close(self, result: ProcessResult) -> None:
        self.stream.flush()


class WindowSink:
    """A live window of the latest lines on a terminal; the full output stays in the log."""

    def __init__(
        self, title: str, height: int = WINDOW_LINES, stream: IO[str] | None = None,
    ) -> None:
        from rich.console import Console
        from rich.live import Live

        self.title = title
        self.lines: deque[str] = deque(maxlen=height)
        self.console = Console(file=stream or sys.stdout)
        self.live = Live(self._render(), console=self.console, transient=True, refresh_per_second=8)
        self.live.start()

    def _render(self) -> Any:
        from rich.panel import Panel
        from rich.text import Text

        body = Text.from_ansi("\n".join(self.lines)) if self.lines else Text("starting…")
        return Panel(body, title=self.title, title_align="left", border_style="dim")

    def write(self, line: str) -> None:
        self.lines.append(line)
        self.live.update(self._render(), refresh=True)

    def close(self, result: ProcessResult) -> None:
        self.live.stop()


class SilentSink:
    """A sink that discards lines, for output shown only when the command fails."""

    def write(self, line: str) -> None:
        pass

    def close(self, result: ProcessResult) -> None:
        pass


def choose_sink(title: str, *, verbose: bool, stream: IO[str] | None = None) -> LineSink:
    """Return a live window on a terminal, else (or with `verbose`) plain lines."""
    stream = stream or sys.stdout
    if verbose or not stream.isatty():
        return PlainSink(stream)
    return WindowSink(title, stream=stream)


# `sst dev` lines that carry no information for the person watching.
DEV_NOISE = re.compile(
    r"^\s*$"
    r"|^\s*[⠁-⣿]"  # braille spinner frames
    r"|Generated sst-env\.d\.ts"
    r"|^\[\w+\]\s*[○◐◓◑◒]\s*Compiling"
    r"|^\s*Console:\s"
)
# Resource lines of SST's progress output, such as `|  Created     Web sst:aws:Nextjs`.
DEV_RESOURCE = re.compile(r"^\|\s+(Created|Updated|Deleted|Building|Built|Skipped|Same)\s+")
DEV_PROBLEM = re.compile(r"\b(Error|error|failed|Failed|Locked)\b|✕|EADDRINUSE")


class DevOutputSink:
    """A filter for `sst dev` output: noise dropped, resource lines counted, repeats merged.

    Problem lines (errors, failures, locks) are always printed as they are;
    `--verbose` uses `PlainSink` instead to show the raw output.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.resources: dict[str, int] = {}
        self.previous: str | None = None
        self.repeats = 0

    def write(self, line: str) -> None:
        from engine.logfacts import clean_line

        text = clean_line(line)
        resource = DEV_RESOURCE.match(text)
        if resource and not DEV_PROBLEM.search(text):
            verb = resource.group(1).lower()
            self.resources[verb] = self.resources.get(verb, 0) + 1
            return
        if DEV_NOISE.search(text) and not DEV_PROBLEM.search(text):
            return
        if text == self.previous:
            self.repeats += 1
            return
        self._flush()
        self.previous = text
        self._emit(text)

    def close(self, result: ProcessResult) -> None:
        self._flush()
        self.stream.flush()

    def _flush(self) -> None:
        if self.repeats:
            self._emit(f"  (repeated {self.repeats} more time{'s' if self.repeats > 1 else ''})")
            self.repeats = 0
        if self.resources:
            counts = ", ".join(f"{verb} {count}" for verb, count in self.resources.items())
            self._emit(f"|  resources: {counts}")
            self.resources = {}

    def _emit(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
