"""The SST runner: streaming, the kept log, outputs and signal forwarding, with the fake sst."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deploykit.sst import (
    PlainSink,
    ProcessResult,
    WindowSink,
    build_sst_command,
    choose_sink,
    new_log_path,
    output_distribution_id,
    output_urls,
    read_outputs,
    run_sst,
    run_streamed,
)
from tests.fakesst import FAKE_SST, fake_sst_env, install_fake_sst, read_records

REPO = Path(__file__).resolve().parent.parent
SST_CONFIG = 'export default $config({ app() { return { name: "notes" }; } });\n'


class RecordingSink:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.closed: ProcessResult | None = None

    def write(self, line: str) -> None:
        self.lines.append(line)

    def close(self, result: ProcessResult) -> None:
        self.closed = result


def make_project(tmp_path: Path, lockfile: str = "pnpm-lock.yaml") -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "sst.config.ts").write_text(SST_CONFIG)
    package = {"name": "notes", "devDependencies": {"sst": "3.3.21"}}
    (project / "package.json").write_text(json.dumps(package))
    (project / lockfile).write_text("")
    install_fake_sst(project)
    return project


def fake_env(tmp_path: Path, transcript: str) -> dict[str, str]:
    return {**os.environ, **fake_sst_env(tmp_path / "record.jsonl", transcript)}


def test_run_streamed_logs_every_line(tmp_path: Path) -> None:
    sink = RecordingSink()
    log_path = tmp_path / "logs" / "staging.log"

    result = run_streamed(
        [str(FAKE_SST), "deploy", "--stage", "staging"], cwd=tmp_path,
        env=fake_env(tmp_path, "deploy-success"), log_path=log_path, sink=sink,
    )

    assert result.exit_code == 0
    assert "✓  Complete" in sink.lines
    assert log_path.read_text(encoding="utf-8").splitlines() == sink.lines
    assert sink.closed == result


def test_run_streamed_returns_transcript_exit_code(tmp_path: Path) -> None:
    result = run_streamed(
        [str(FAKE_SST), "deploy", "--stage", "production"], cwd=tmp_path,
        env=fake_env(tmp_path, "deploy-state-bucket-missing"), log_path=tmp_path / "x.log",
        sink=RecordingSink(),
    )

    assert result.exit_code == 1
    assert not result.ok
    assert any("state bucket is missing" in line for line in result.tail)


def test_run_streamed_rejects_missing_executable(tmp_path: Path) -> None:
    from deploykit.errors import InputError

    with pytest.raises(InputError, match="node_modules/.bin"):
        run_streamed(
            [str(tmp_path / "no-such-sst")], cwd=tmp_path, env=dict(os.environ),
            log_path=tmp_path / "x.log", sink=RecordingSink(),
        )


def test_fake_sst_writes_outputs_json(tmp_path: Path) -> None:
    run_streamed(
        [str(FAKE_SST), "deploy", "--stage", "staging"], cwd=tmp_path,
        env=fake_env(tmp_path, "deploy-success"), log_path=tmp_path / "x.log", sink=RecordingSink(),
    )

    outputs = read_outputs(tmp_path)

    assert output_urls(outputs) == ["https://staging.notes.example.com"]
    assert output_distribution_id(outputs) == "E2QWRUHAPOMQZL"


def test_read_outputs_ignores_invalid_json(tmp_path: Path) -> None:
    (tmp_path / ".sst").mkdir()
    (tmp_path / ".sst" / "outputs.json").write_text("{not json")

    assert read_outputs(tmp_path) == {}


def test_new_log_path_never_reuses_a_name(tmp_path: Path) -> None:
    first = new_log_path(tmp_path, "staging")
    first.write_text("")

    second = new_log_path(tmp_path, "staging")

    assert second != first
    assert second.parent == tmp_path / ".deploy-kit" / "logs"
    assert second.name.startswith("staging-")


def test_build_sst_command_prefers_local_binary(tmp_path: Path) -> None:
    project = make_project(tmp_path)

    command = build_sst_command(project, "staging", "deploy", base_env={"PATH": "/usr/bin"})

    assert command.argv[0].endswith("node_modules/.bin/sst")
    assert command.argv[-2:] == ["--stage", "staging"]
    assert command.cwd == project.resolve()


def test_build_sst_command_passes_profile_and_run_settings(tmp_path: Path) -> None:
    from deploykit.runsettings import save_run_env

    project = make_project(tmp_path)
    save_run_env(project, None, {"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"})
    save_run_env(project, "staging", {"SST_EXTRA": "staging-only"})

    command = build_sst_command(
        project, "staging", "deploy", profile="notes-dev", base_env={"PATH": "/usr/bin"},
    )

    assert command.env["AWS_PROFILE"] == "notes-dev"
    assert command.env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
    assert command.env["SST_EXTRA"] == "staging-only"


def test_run_sst_reaches_fake_with_stage_and_profile(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    record = tmp_path / "record.jsonl"
    base_env = {**os.environ, **fake_sst_env(record, "deploy-success")}
    command = build_sst_command(
        project, "staging", "deploy", profile="notes-dev", base_env=base_env,
    )

    run_sst(command, log_path=tmp_path / "x.log", sink=RecordingSink())

    [run] = read_records(record, "run")
    assert run["argv"] == ["deploy", "--stage", "staging"]
    assert run["env"]["AWS_PROFILE"] == "notes-dev"


def test_plain_sink_prints_lines(tmp_path: Path) -> None:
    stream = io.StringIO()
    sink = PlainSink(stream)

    sink.write("|  Created     Web sst:aws:Nextjs")

    assert stream.getvalue() == "|  Created     Web sst:aws:Nextjs\n"


def test_run_streamed_forwards_sigint_to_process_group(tmp_path: Path) -> None:
    """A driver process runs the runner; SIGINT to it must reach the fake and be reported."""
    record = tmp_path / "record.jsonl"
    log_path = tmp_path / "run.log"
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(REPO)!r})
        from deploykit.sst import SilentSink, run_streamed
        from pathlib import Path
        result = run_streamed(
            [{str(FAKE_SST)!r}, "deploy", "--stage", "staging"], cwd=Path({str(tmp_path)!r}),
            env=dict(os.environ), log_path=Path({str(log_path)!r}), sink=SilentSink(),
        )
        print(json.dumps({{"exit": result.exit_code, "interrupted": result.interrupted}}))
    """))
    env = {**os.environ, **fake_sst_env(record, "deploy-slow")}
    process = subprocess.Popen(
        [sys.executable, str(driver)], env=env, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    _wait_for(lambda: "Building" in (log_path.read_text() if log_path.exists() else ""))

    os.killpg(process.pid, signal.SIGINT)
    stdout, _ = process.communicate(timeout=30)

    outcome = json.loads(stdout.strip().splitlines()[-1])
    assert outcome == {"exit": 130, "interrupted": True}
    assert [entry["signal"] for entry in read_records(record, "signal")] == ["SIGINT"]
    assert "SIGINT received, cancelling" in log_path.read_text()


def _wait_for(condition: object, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_choose_sink_plain_without_terminal() -> None:
    assert isinstance(choose_sink("sst deploy", verbose=False, stream=io.StringIO()), PlainSink)


def test_choose_sink_window_on_terminal() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        sink = choose_sink("sst deploy --stage staging", verbose=False, stream=terminal)
        sink.write("|  Building    Web sst:aws:Nextjs")
        sink.close(ProcessResult(0, Path("x.log"), 0.1))
        shown = os.read(leader, 65536).decode("utf-8", errors="replace")
    os.close(leader)

    assert isinstance(sink, WindowSink)
    assert "Building    Web" in shown


def test_choose_sink_plain_with_verbose_on_terminal() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        sink = choose_sink("sst deploy", verbose=True, stream=terminal)
    os.close(leader)

    assert isinstance(sink, PlainSink)


def test_run_streamed_stops_group_after_timeout(tmp_path: Path) -> None:
    result = run_streamed(
        ["/bin/sh", "-c", "echo started; sleep 30"], cwd=tmp_path, env=dict(os.environ),
        log_path=tmp_path / "x.log", sink=RecordingSink(), timeout=0.5,
    )

    assert result.timed_out
    assert result.exit_code == -signal.SIGTERM
    assert result.tail == ("started",)
