"""`deploy-kit dev`: pre-flight checks, port choice, signal forwarding and crash triage."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploykit.sst import DevOutputSink, ProcessResult
from tests.conftest import CASES, run_cli
from tests.fakesst import fake_sst_env, read_records
from tests.fakesst.projects import commit_all, prepare_healthy_project, write_aws_profiles


@pytest.fixture
def project(tmp_path: Path, aws_env: dict[str, str]) -> Path:
    root = prepare_healthy_project(tmp_path / "notes", {})
    write_aws_profiles(aws_env)
    return root


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "sst-record.jsonl"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port with a listener on 127.0.0.1, closed after the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


def dev(
    project: Path,
    record: Path,
    transcript: str,
    *args: str,
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "dev", "-C", str(project), *args, env=fake_sst_env(record, transcript), timeout=120
    )


def quick_transcript(tmp_path: Path) -> Path:
    path = tmp_path / "dev-quick.txt"
    path.write_text("exit: 0\n---\nSST 3.3.21  ready!\n")
    return path


def test_dev_runs_sst_dev_with_stage(project: Path, record: Path, tmp_path: Path) -> None:
    result = dev(
        project, record, str(quick_transcript(tmp_path)), "--stage", "alice", "--skip-checks"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    [run] = read_records(record, "run")
    assert run["argv"] == ["dev", "--stage", "alice"]


def test_dev_uses_stage_stored_by_sst(project: Path, record: Path, tmp_path: Path) -> None:
    (project / ".sst").mkdir()
    (project / ".sst" / "stage").write_text("bob\n")

    dev(project, record, str(quick_transcript(tmp_path)), "--skip-checks")

    [run] = read_records(record, "run")
    assert run["argv"] == ["dev", "--stage", "bob"]


def test_dev_picks_next_free_port(
    project: Path,
    record: Path,
    tmp_path: Path,
    held_port: int,
) -> None:
    result = dev(
        project,
        record,
        str(quick_transcript(tmp_path)),
        "--stage",
        "alice",
        "--port",
        str(held_port),
        "--skip-checks",
    )

    [run] = read_records(record, "run")
    assert int(run["env"]["PORT"]) > held_port
    assert f"port {held_port} is in use" in result.stdout


def test_dev_passes_free_port_unchanged(project: Path, record: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    dev(
        project,
        record,
        str(quick_transcript(tmp_path)),
        "--stage",
        "alice",
        "--port",
        str(port),
        "--skip-checks",
    )

    [run] = read_records(record, "run")
    assert run["env"]["PORT"] == str(port)


@pytest.mark.parametrize("port", ["0", "-1", "65536"])
def test_dev_rejects_port_out_of_range(project: Path, record: Path, port: str) -> None:
    result = dev(
        project, record, "dev-start", "--stage", "alice", "--skip-checks", f"--port={port}"
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "not in the range 1<=x<=65535" in result.stderr
    assert read_records(record, "run") == []


def test_dev_last_port_taken(project: Path, record: Path, tmp_path: Path) -> None:
    # The scan for a free port must stop at 65535 instead of binding past it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        try:
            server.bind(("127.0.0.1", 65535))
            server.listen()
        except OSError:
            pass  # Another process listens there, so the port is taken all the same.
        result = dev(
            project,
            record,
            str(quick_transcript(tmp_path)),
            "--stage",
            "alice",
            "--port",
            "65535",
            "--skip-checks",
        )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "ports 65535 to 65535 are all in use" in result.stderr
    assert "internal error" not in result.stderr
    assert read_records(record, "run") == []


def test_dev_preflight_passes_on_healthy_project(
    project: Path, record: Path, tmp_path: Path
) -> None:
    result = dev(project, record, str(quick_transcript(tmp_path)), "--stage", "alice")

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(read_records(record, "run")) == 1


def test_dev_preflight_blocks_on_manual_error(
    tmp_path: Path, aws_env: dict[str, str], record: Path
) -> None:
    root = prepare_healthy_project(tmp_path / "notes", {})  # AWS profile notes-dev left undefined

    result = dev(root, record, "dev-start", "--stage", "alice")

    assert result.returncode == 1
    assert "aws/profile-not-found" in result.stdout
    assert read_records(record, "run") == []


def test_dev_preflight_fixes_recursive_dev_script(
    project: Path, record: Path, tmp_path: Path
) -> None:
    shutil.copy(CASES / "recursive-sst-dev-script" / "package.json", project / "package.json")
    commit_all(project, "Use the recursive dev script")

    result = dev(project, record, str(quick_transcript(tmp_path)), "--stage", "alice")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "package/recursive-sst-dev" in result.stdout
    assert json.loads((project / "package.json").read_text())["scripts"]["dev"] != "sst dev"


def test_dev_skip_checks_starts_anyway(
    tmp_path: Path, aws_env: dict[str, str], record: Path
) -> None:
    root = prepare_healthy_project(tmp_path / "notes", {})

    result = dev(root, record, str(quick_transcript(tmp_path)), "--stage", "alice", "--skip-checks")

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(read_records(record, "run")) == 1


@pytest.mark.parametrize(
    ("transcript", "rule_id"),
    [
        ("dev-crash", "log-sst-state/stage-locked"),
        ("dev-port-already-in-use-after-a-restart", "log-node/port-in-use"),
        ("dev-recursive-sst-dev-script", "package/recursive-sst-dev-in-log"),
        ("dev-corrupted-sst-folder", "log-sst-state/platform-incomplete"),
    ],
)
def test_dev_crash_triaged_with_rule(
    project: Path, record: Path, transcript: str, rule_id: str
) -> None:
    result = dev(project, record, transcript, "--stage", "alice", "--skip-checks")

    assert result.returncode == 1
    assert "Diagnosis of the failed sst dev" in result.stdout
    assert rule_id in result.stdout


def test_dev_crash_reads_sst_log_in_subfolder(
    tmp_path: Path, aws_env: dict[str, str], record: Path
) -> None:
    """In a monorepo SST runs in a sub-folder, so its sst.log is appended to the dev log."""
    root = tmp_path / "mono"
    shutil.copytree(CASES.parent / "projects" / "monorepo", root, symlinks=True)
    from tests.fakesst import install_fake_sst

    install_fake_sst(root)
    result = dev(root, record, "dev-crash", "--stage", "alice", "--skip-checks")

    assert "log-sst-state/stage-locked" in result.stdout


def test_dev_ctrl_c_forwarded_to_sst(project: Path, record: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", **fake_sst_env(record, "dev-start")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploykit",
            "dev",
            "-C",
            str(project),
            "--stage",
            "alice",
            "--skip-checks",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _wait_for(lambda: bool(read_records(record, "run")))
    time.sleep(0.3)  # let the fake print its first lines

    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stdout + stderr
    assert [entry["signal"] for entry in read_records(record, "signal")] == ["SIGINT"]
    assert "Diagnosis" not in stdout


def _wait_for(condition: Callable[[], bool], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


# Output filtering -------------------------------------------------------------


def _filtered(lines: list[str]) -> list[str]:
    stream = io.StringIO()
    sink = DevOutputSink(stream)
    for line in lines:
        sink.write(line)
    sink.close(ProcessResult(0, Path("dev.log"), 0.0))
    return stream.getvalue().splitlines()


def test_dev_output_groups_resource_lines() -> None:
    lines = _filtered(
        [
            "|  Created     Web sst:aws:Nextjs",
            "|  Created     Notes sst:aws:Dynamo",
            "|  Updated     Api sst:aws:Function",
            "✓  Complete",
        ]
    )

    assert lines == ["|  resources: created 2, updated 1", "✓  Complete"]


def test_dev_output_drops_blank_and_spinner_lines() -> None:
    assert _filtered(["", "⠋ Deploying", "[Web] ✓ Ready in 1845ms"]) == ["[Web] ✓ Ready in 1845ms"]


def test_dev_output_merges_repeated_lines() -> None:
    lines = _filtered(["[timeout]", "[timeout]", "[timeout]", "[restarting]"])

    assert lines == ["[timeout]", "  (repeated 2 more times)", "[restarting]"]


def test_dev_output_keeps_resource_errors() -> None:
    line = "|  Error       Web sst:aws:Nextjs → WebServerFunction aws:lambda:Function"

    assert _filtered([line]) == [line]


def test_dev_output_json_lines_untouched() -> None:
    line = json.dumps({"level": "info", "msg": "ready"})

    assert _filtered([line]) == [line]
