"""The DynamoDB lock backend, against a local moto server."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deploykit.locks import LockHeldError
from deploykit.locks.dynamodb import DynamoDBLock, create_lock_table
from tests.conftest import REPO

TABLE = "deploy-locks"
RACERS = 20


def make_session() -> Any:
    import boto3

    return boto3.session.Session(region_name="eu-west-1")


@pytest.fixture
def session(aws_env: dict[str, str]) -> Any:
    session = make_session()
    create_lock_table(session, TABLE)
    return session


def put_holder(session: Any, **overrides: Any) -> None:
    now = datetime.now(UTC)
    item = {
        "lockId": {"S": "shop#staging"},
        "app": {"S": "shop"},
        "stage": {"S": "staging"},
        "deployer": {"S": "ci@runner-3"},
        "pid": {"N": "4242"},
        "host": {"S": "runner-3"},
        "command": {"S": "deploy-kit deploy staging"},
        "createdAt": {"S": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "expiresAt": {"S": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "token": {"S": "other-runner"},
        "ttl": {"N": str(int((now + timedelta(hours=2)).timestamp()))},
    }
    item.update(overrides)
    session.client("dynamodb").put_item(TableName=TABLE, Item=item)


def test_dynamodb_lock_stores_holder(session: Any) -> None:
    with DynamoDBLock(session, TABLE, "shop", "staging").acquire("deploy-kit deploy staging"):
        holder = DynamoDBLock(session, TABLE, "shop", "staging").read()
    assert holder is not None
    assert holder.command == "deploy-kit deploy staging"
    assert holder.host == socket.gethostname()
    assert holder.expires_at - holder.created_at == timedelta(hours=2)


def test_dynamodb_lock_sets_ttl_attribute(session: Any) -> None:
    with DynamoDBLock(session, TABLE, "shop", "staging").acquire("deploy") as lock:
        item = session.client("dynamodb").get_item(
            TableName=TABLE, Key={"lockId": {"S": "shop#staging"}}
        )["Item"]
    assert lock.info is not None
    assert int(item["ttl"]["N"]) == int(lock.info.expires_at.timestamp())


def test_dynamodb_lock_release_deletes_item(session: Any) -> None:
    DynamoDBLock(session, TABLE, "shop", "staging").acquire("deploy").release()
    assert DynamoDBLock(session, TABLE, "shop", "staging").read() is None


def test_dynamodb_lock_rejects_second_holder(session: Any) -> None:
    first = DynamoDBLock(session, TABLE, "shop", "staging").acquire("first")
    with first, pytest.raises(LockHeldError) as raised:
        DynamoDBLock(session, TABLE, "shop", "staging").acquire("second")
    assert raised.value.holder.command == "first"


def test_dynamodb_lock_takes_over_expired_item(session: Any) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    put_holder(
        session,
        expiresAt={"S": past.strftime("%Y-%m-%dT%H:%M:%SZ")},
        ttl={"N": str(int(past.timestamp()))},
    )
    with DynamoDBLock(session, TABLE, "shop", "staging").acquire("mine"):
        holder = DynamoDBLock(session, TABLE, "shop", "staging").read()
    assert holder is not None
    assert holder.command == "mine"


def test_dynamodb_lock_respects_other_runner(session: Any) -> None:
    put_holder(session)
    with pytest.raises(LockHeldError, match="runner-3"):
        DynamoDBLock(session, TABLE, "shop", "staging").acquire("mine")


def test_dynamodb_lock_takes_over_dead_local_holder(session: Any) -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    put_holder(session, host={"S": socket.gethostname()}, pid={"N": str(finished.pid)})
    with DynamoDBLock(session, TABLE, "shop", "staging").acquire("mine"):
        holder = DynamoDBLock(session, TABLE, "shop", "staging").read()
    assert holder is not None
    assert holder.command == "mine"


def test_dynamodb_lock_release_keeps_item_taken_over(session: Any) -> None:
    lock = DynamoDBLock(session, TABLE, "shop", "staging").acquire("mine")
    put_holder(session)
    lock.release()
    holder = DynamoDBLock(session, TABLE, "shop", "staging").read()
    assert holder is not None
    assert holder.host == "runner-3"


def test_dynamodb_lock_apps_are_independent(session: Any) -> None:
    first = DynamoDBLock(session, TABLE, "shop", "staging").acquire("a")
    with first, DynamoDBLock(session, TABLE, "notes", "staging").acquire("b") as other:
        assert other.info is not None


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import boto3
    from deploykit.locks import LockHeldError
    from deploykit.locks.dynamodb import DynamoDBLock
    session = boto3.session.Session(region_name="eu-west-1")
    lock = DynamoDBLock(session, "deploy-locks", "shop", "staging")
    lock._client.describe_table(TableName="deploy-locks")  # connect before the start signal
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.001)
    try:
        lock.acquire("racer")
    except LockHeldError:
        print("lost", flush=True)
        sys.exit(0)
    print("won", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def test_dynamodb_lock_race_has_one_winner(session: Any, tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go), str(REPO)],
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
            racer.wait(timeout=60)
    assert outcomes.count("won") == 1
    assert outcomes.count("lost") == RACERS - 1
