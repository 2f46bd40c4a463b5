"""The file lock `.deployment-lock-STAGE`: exclusive, self-describing, stale locks taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploykit.errors import UsageError
from deploykit.locks import LockHeldError, MalformedLockError
from deploykit.locks.file_lock import acquire_file_lock, read_file_lock
from tests.conftest import FIXTURES, REPO

RACERS = 20


def write_lock(root: Path, stage: str, **overrides: object) -> Path:
    now = datetime.now(UTC)
    record: dict[str, object] = {
        "stage": stage,
        "deployer": "dana@" + socket.gethostname(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": "deploy-kit deploy " + stage,
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiresAt": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    record.update(overrides)
    path = root / f".deployment-lock-{stage}"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_file_lock_writes_holder_record(tmp_path: Path) -> None:
    with acquire_file_lock(tmp_path, "staging", "deploy-kit deploy staging") as lock:
        record = json.loads(lock.path.read_text())
    assert lock.path.name == ".deployment-lock-staging"
    assert record["pid"] == os.getpid()
    assert record["host"] == socket.gethostname()
    assert record["deployer"].endswith("@" + socket.gethostname())
    assert record["command"] == "deploy-kit deploy staging"
    created = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(record["expiresAt"].replace("Z", "+00:00"))
    assert expires - created == timedelta(hours=2)


def test_file_lock_release_deletes_file(tmp_path: Path) -> None:
    lock = acquire_file_lock(tmp_path, "staging", "deploy")
    lock.release()
    assert not (tmp_path / ".deployment-lock-staging").exists()


def test_file_lock_leaves_no_temporary_files(tmp_path: Path) -> None:
    with acquire_file_lock(tmp_path, "staging", "deploy"):
        names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".deployment-lock-staging"]


def test_file_lock_rejects_second_holder(tmp_path: Path) -> None:
    with acquire_file_lock(tmp_path, "staging", "first"), pytest.raises(LockHeldError) as raised:
        acquire_file_lock(tmp_path, "staging", "second")
    assert raised.value.holder.command == "first"
    assert "first" in str(raised.value)


def test_file_lock_stages_are_independent(tmp_path: Path) -> None:
    first = acquire_file_lock(tmp_path, "staging", "a")
    with first, acquire_file_lock(tmp_path, "prod", "b") as second:
        assert second.path.exists()


def test_file_lock_takes_over_expired_lock(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write_lock(
        tmp_path, "staging", host="build-runner-7", pid=999999,
        createdAt=(now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        expiresAt=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    with acquire_file_lock(tmp_path, "staging", "mine") as lock:
        assert read_file_lock(lock.path).command == "mine"


def test_file_lock_takes_over_dead_local_holder(tmp_path: Path) -> None:
    write_lock(tmp_path, "staging", pid=dead_pid(), command="crashed deploy")
    with acquire_file_lock(tmp_path, "staging", "mine") as lock:
        assert read_file_lock(lock.path).command == "mine"


def test_file_lock_respects_unexpired_lock_of_other_host(tmp_path: Path) -> None:
    write_lock(tmp_path, "staging", host="build-runner-7", pid=dead_pid())
    with pytest.raises(LockHeldError):
        acquire_file_lock(tmp_path, "staging", "mine")


def test_file_lock_respects_live_holder(tmp_path: Path) -> None:
    write_lock(tmp_path, "staging", pid=os.getpid())
    with pytest.raises(LockHeldError):
        acquire_file_lock(tmp_path, "staging", "mine")


def test_file_lock_treats_reused_pid_as_dead(tmp_path: Path) -> None:
    # This process started after the recorded creation time, so the pid was reused.
    created = datetime.now(UTC) - timedelta(days=30)
    write_lock(
        tmp_path, "staging", pid=os.getpid(),
        createdAt=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        expiresAt=(datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    with acquire_file_lock(tmp_path, "staging", "mine") as lock:
        assert read_file_lock(lock.path).command == "mine"


def test_file_lock_release_keeps_lock_taken_over(tmp_path: Path) -> None:
    lock = acquire_file_lock(tmp_path, "staging", "mine")
    replacement = write_lock(tmp_path, "staging", command="someone else")
    lock.release()
    assert replacement.exists()


def test_file_lock_malformed_file_names_it(tmp_path: Path) -> None:
    (tmp_path / ".deployment-lock-staging").write_text("{not json")
    with pytest.raises(MalformedLockError, match=r"\.deployment-lock-staging:1:2"):
        acquire_file_lock(tmp_path, "staging", "mine")


def test_file_lock_missing_key_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / ".deployment-lock-staging"
    path.write_text(json.dumps({"stage": "staging", "host": "h"}))
    with pytest.raises(MalformedLockError, match="pid"):
        read_file_lock(path)


def test_file_lock_rejects_stage_with_separator(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="invalid stage name"):
        acquire_file_lock(tmp_path, "../etc", "mine")


def test_file_lock_sample_lock_is_stale() -> None:
    info = read_file_lock(FIXTURES / "projects" / "broken" / ".deployment-lock-staging")
    assert info.stale()


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from deploykit.locks import LockHeldError
    from deploykit.locks.file_lock import acquire_file_lock
    root, go = Path(sys.argv[1]), Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    try:
        lock = acquire_file_lock(root, "staging", "racer")
    except LockHeldError:
        print("lost", flush=True)
        sys.exit(0)
    print("won", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin
    lock.release()
    """
)


def race(root: Path, tmp_path: Path) -> list[str]:
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(root), str(go), str(REPO)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(RACERS)
    ]
    go.touch()
    outcomes = []
    try:
        for racer in racers:
            assert racer.stdout is not None
            outcomes.append(racer.stdout.readline().strip())
    finally:
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.close()
            racer.wait(timeout=30)
    return outcomes


def test_file_lock_race_has_one_winner(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outcomes = race(root, tmp_path)
    assert outcomes.count("won") == 1
    assert outcomes.count("lost") == RACERS - 1


def test_file_lock_stale_race_has_one_winner(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    write_lock(root, "staging", pid=dead_pid(), command="crashed deploy")
    outcomes = race(root, tmp_path)
    assert outcomes.count("won") == 1
    assert outcomes.count("lost") == RACERS - 1
