"""A deployment lock kept as an item in a DynamoDB table, for CI runners sharing stages.

Table layout: the partition key `lockId` (string) is `APP#STAGE`. The item
also contains the holder record of the file lock (stage, deployer, pid, host,
command, createdAt, expiresAt), the owner `token`, and `ttl`, the expiry in
epoch seconds that the table's time-to-live setting uses to purge old items.

Acquiring is one conditional `PutItem` (no item, or the item has expired), so
of many runners exactly one wins. Releasing is a `DeleteItem` conditioned on
the owner token, so a runner never deletes a lock another runner took over.
DynamoDB deletes expired items only eventually (typically within days, AWS
docs on TTL), which is why the condition compares `ttl` itself.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any

from deploykit.locks import (
    LockHeldError,
    LockInfo,
    check_stage_name,
    new_lock_info,
    parse_lock_record,
    utc_now,
)

log = logging.getLogger(__name__)

KEY = "lockId"
TTL_ATTRIBUTE = "ttl"
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


class DynamoDBLock:
    """The lock for one app and stage in `table`; use `acquire()` then `release()`."""

    def __init__(self, session: Any, table: str, app: str, stage: str) -> None:
        check_stage_name(stage)
        self.table = table
        self.app = app
        self.stage = stage
        self.lock_id = f"{app}#{stage}"
        self.info: LockInfo | None = None
        self._client = session.client("dynamodb")
        self._token: str | None = None

    @property
    def where(self) -> str:
        return f"DynamoDB table {self.table} (item {self.lock_id})"

    def acquire(self, command: str, *, now: datetime | None = None) -> DynamoDBLock:
        """Put the lock item for this process; raises `LockHeldError` when a live lock exists.

        An unexpired lock whose holder ran on this host and is dead is taken
        over with a put conditioned on that holder's token.
        """
        moment = now or utc_now()
        info = new_lock_info(self.stage, command, moment)
        token = uuid.uuid4().hex
        item = self._item(info, token)

        if self._put(item, "attribute_not_exists(#key) OR #ttl < :now", {":now": _number(moment)}):
            return self._held(info, token)

        current = self.read_item()
        if current is None:  # released between the put and the read
            if self._put(item, "attribute_not_exists(#key)", {}):
                return self._held(info, token)
            current = self.read_item()
        if current is None:
            raise RuntimeError(f"lock item {self.lock_id} changed twice during acquire; retry")
        holder, holder_token = current

        if holder.holder_alive() is False:
            log.info("taking over lock %s held by dead process %s", self.lock_id, holder.describe())
            if self._put(item, "#token = :old", {":old": {"S": holder_token}}):
                return self._held(info, token)
            current = self.read_item()
            if current is not None:
                holder = current[0]
        raise LockHeldError(holder, self.where)

    def release(self) -> None:
        """Delete the item if this lock still owns it; calling it twice is harmless."""
        if self._token is None:
            return
        token, self._token = self._token, None
        from botocore.exceptions import ClientError

        try:
            self._client.delete_item(
                TableName=self.table,
                Key={KEY: {"S": self.lock_id}},
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as error:
            if _error_code(error) != CONDITIONAL_CHECK_FAILED:
                raise
            log.warning("lock %s now belongs to another deploy; leaving it", self.lock_id)

    def read(self) -> LockInfo | None:
        """Return the current holder, or None when the stage is not locked."""
        current = self.read_item()
        return current[0] if current else None

    def read_item(self) -> tuple[LockInfo, str] | None:
        response = self._client.get_item(
            TableName=self.table, Key={KEY: {"S": self.lock_id}}, ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        record = {name: _plain(value) for name, value in item.items()}
        return parse_lock_record(record, self.where), str(record.get("token", ""))

    def __enter__(self) -> DynamoDBLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def _held(self, info: LockInfo, token: str) -> DynamoDBLock:
        self.info = info
        self._token = token
        log.info("acquired lock %s in table %s", self.lock_id, self.table)
        return self

    def _item(self, info: LockInfo, token: str) -> dict[str, dict[str, str]]:
        item: dict[str, dict[str, str]] = {KEY: {"S": self.lock_id}, "app": {"S": self.app}}
        for name, value in info.to_json().items():
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        item["token"] = {"S": token}
        item[TTL_ATTRIBUTE] = _number(info.expires_at)
        return item

    def _put(self, item: dict[str, dict[str, str]], condition: str, values: dict[str, Any]) -> bool:
        from botocore.exceptions import ClientError

        names = {name: attribute for name, attribute in
                 (("#key", KEY), ("#ttl", TTL_ATTRIBUTE), ("#token", "token")) if name in condition}
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            arguments["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**arguments)
        except ClientError as error:
            if _error_code(error) == CONDITIONAL_CHECK_FAILED:
                return False
            raise
        return True


def create_lock_table(session: Any, table: str) -> None:
    """Create the lock table (on-demand capacity) and turn on time to live for `ttl`."""
    client = session.client("dynamodb")
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table)
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def _number(moment: datetime) -> dict[str, str]:
    return {"N": str(int(moment.timestamp()))}


def _plain(value: dict[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = str(value["N"])
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in value:
        return bool(value["BOOL"])
    return None


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
