"""One person's data in DynamoDB and S3: everything stored about them (access), and its erasure.

DynamoDB: the conversation items (`user_id = whatsapp:+<number>`) and every guard item that points
at them (`msgid#<message id>`, including the aliases Meta's ids got after a send, found by
`item_user_id`), the `users` item, the `user-profiles` item and the customer records with that
phone number (every business account). S3: the media listed in the person's media index
(`stores.media_index`) and the index itself, and the person's rows in the daily Parquet exports
(`conversations/`), which are rewritten without them.

Every step is idempotent: run again, it finds nothing and counts zero.
"""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError

from stores.codec import from_item, to_item
from stores.media_index import MediaIndex
from stores.models import whatsapp_user_id
from stores.schema import PHONE_INDEX

GUARD_PREFIX = "msgid#"
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # unreadable until restored
EXPORT_PREFIX = "conversations/"


def message_ids(items: list[dict[str, Any]]) -> list[str]:
    """The ids the guard items of these conversation items are named by."""
    ids = {str(i["message_id"]) for i in items}
    ids |= {str(w) for i in items for w in i.get("wamids") or []}
    return sorted(ids)


class PersonalData:
    """DynamoDB tables under `prefix` and the data bucket, for one person at a time."""

    def __init__(
        self, dynamodb: Any, s3: Any, bucket: str, prefix: str, *, scan_guards: bool = True
    ) -> None:
        self.scan_guards = scan_guards
        self.db = dynamodb
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.media = MediaIndex(s3, bucket)

    def _table(self, name: str) -> str:
        return f"{self.prefix}{name}"

    # Reads ------------------------------------------------------------------------------------

    def conversation_items(self, wa_id: str) -> list[dict[str, Any]]:
        return self._query(
            self._table("conversations"),
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": whatsapp_user_id(wa_id)}},
        )

    def guard_items(self, wa_id: str, message_ids: list[str]) -> list[dict[str, Any]]:
        """Guards of the person's messages, by message id and by Meta's ids (`wamids` on sent
        items); with `scan_guards`, also any other alias pointing at them (one filtered scan of
        the conversations table: the safety net for items logged before `wamids` existed)."""
        table = self._table("conversations")
        found: dict[str, dict[str, Any]] = {}
        for message_id in message_ids:
            key = {"user_id": GUARD_PREFIX + message_id, "timestamp": "guard"}
            response = self.db.get_item(TableName=table, Key=to_item(key))
            if "Item" in response:
                found[key["user_id"]] = from_item(response["Item"])
        paginator = self.db.get_paginator("scan")
        pages = paginator.paginate(
            TableName=table,
            FilterExpression="item_user_id = :u",
            ExpressionAttributeValues={":u": {"S": whatsapp_user_id(wa_id)}},
        )
        for page in pages if self.scan_guards else []:
            for item in page["Items"]:
                record = from_item(item)
                found[record["user_id"]] = record
        return list(found.values())

    def customers(self, wa_id: str) -> list[dict[str, Any]]:
        phone = whatsapp_user_id(wa_id).removeprefix("whatsapp:")
        return self._query(
            self._table("customers"),
            IndexName=PHONE_INDEX,
            KeyConditionExpression="phone = :p",
            ExpressionAttributeValues={":p": {"S": phone}},
        )

    def item(self, table: str, wa_id: str) -> dict[str, Any] | None:
        response = self.db.get_item(
            TableName=self._table(table),
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def media_entries(self, wa_id: str) -> dict[str, str]:
        return self.media.entries(wa_id)

    def export_objects(self) -> dict[str, str]:
        """The daily exports: key -> storage class."""
        found: dict[str, str] = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=EXPORT_PREFIX):
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith(".parquet"):
                        found[obj["Key"]] = obj.get("StorageClass", "STANDARD")
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise
        return found

    def access(self, wa_id: str) -> dict[str, Any]:
        """Everything DynamoDB and S3 hold about the person, as JSON-ready values."""
        items = self.conversation_items(wa_id)
        media = self.media_entries(wa_id)
        return {
            "conversations": items,
            "user": self.item("users", wa_id),
            "profile": self.item("user-profiles", wa_id),
            "customer_records": self.customers(wa_id),
            "media": [
                {"key": key, "bucket": self.bucket, "exists": self._exists(key)}
                for key in sorted(media.values())
            ],
        }

    # Erasure ----------------------------------------------------------------------------------

    def erase_dynamodb(self, wa_id: str) -> dict[str, int]:
        """Conversation items and their guards, the user, the profile, customer records."""
        items = self.conversation_items(wa_id)
        guards = self.guard_items(wa_id, message_ids(items))
        table = self._table("conversations")
        self._batch_delete(table, [{"user_id": g["user_id"], "timestamp": "guard"} for g in guards])
        self._batch_delete(
            table, [{"user_id": i["user_id"], "timestamp": i["timestamp"]} for i in items]
        )
        customers = self.customers(wa_id)
        self._batch_delete(self._table("customers"), [{"id": c["id"]} for c in customers])
        return {
            "conversations": len(items),
            "message_guards": len(guards),
            "users": self._delete_one("users", wa_id),
            "profiles": self._delete_one("user-profiles", wa_id),
            "customers": len(customers),
        }

    def erase_media(self, wa_id: str) -> dict[str, int]:
        """The media of the index (those still there), then the index entries."""
        entries = self.media_entries(wa_id)
        present = [key for key in entries.values() if self._exists(key)]
        self._delete_objects(sorted(set(entries.values())))
        self._delete_objects(list(entries))
        return {"media": len(present), "media_index": len(entries)}

    def erase_exports(self, wa_id: str) -> dict[str, int]:
        """Rewrite each daily export that holds the person's rows without them.

        An export the lifecycle moved to Glacier cannot be read until restored: its restore is
        requested and it is counted in `export_files_archived`; erasing again once it is
        restored (hours) rewrites it."""
        user_id = whatsapp_user_id(wa_id)
        files = rows = archived = 0
        for key, storage in self.export_objects().items():
            if storage in ARCHIVED and not self._restored(key):
                self._request_restore(key)
                archived += 1
                continue
            removed = self._rewrite_without(key, user_id)
            if removed:
                files, rows = files + 1, rows + removed
        return {"export_files": files, "export_rows": rows, "export_files_archived": archived}

    def _rewrite_without(self, key: str, user_id: str) -> int:
        """Write the export again without `user_id`'s rows; how many went."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        if "user_id" not in table.column_names or not table.num_rows:
            return 0
        keep = pc.not_equal(table["user_id"], user_id)
        removed = int(table.num_rows - pc.sum(keep).as_py())
        if removed:
            out = io.BytesIO()
            pq.write_table(table.filter(keep), out, compression="zstd")
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=out.getvalue())
            self._delete_objects([key], keep_current=True)  # the older versions held them
        return removed

    def _restored(self, key: str) -> bool:
        restore = self.s3.head_object(Bucket=self.bucket, Key=key).get("Restore", "")
        return 'ongoing-request="false"' in restore

    def _request_restore(self, key: str) -> None:
        try:
            self.s3.restore_object(
                Bucket=self.bucket,
                Key=key,
                RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "RestoreAlreadyInProgress":
                raise

    # Helpers ----------------------------------------------------------------------------------

    def _query(self, table: str, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.db.get_paginator("query").paginate(TableName=table, **query):
            items += [from_item(item) for item in page["Items"]]
        return items

    def _delete_one(self, table: str, wa_id: str) -> int:
        response = self.db.delete_item(
            TableName=self._table(table),
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            ReturnValues="ALL_OLD",
        )
        return 1 if response.get("Attributes") else 0

    def _batch_delete(self, table: str, keys: list[dict[str, Any]]) -> None:
        for start in range(0, len(keys), 25):
            requests: dict[str, Any] = {
                table: [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[start : start + 25]]
            }
            while requests:
                requests = (
                    self.db.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
                )

    def _exists(self, key: str) -> bool:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(o["Key"] == key for o in listed.get("Contents", []))

    def _versioned(self) -> bool:
        status = self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
        return status in ("Enabled", "Suspended")

    def _delete_objects(self, keys: list[str], *, keep_current: bool = False) -> None:
        """Delete `keys`; in a versioned bucket every version of them (or, with
        `keep_current`, every version but the current one), so nothing lingers."""
        targets: list[dict[str, str]] = []
        if not keys:
            return
        if self._versioned():
            for key in keys:
                listed = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
                for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
                    if version["Key"] == key and not (keep_current and version.get("IsLatest")):
                        targets.append({"Key": key, "VersionId": version["VersionId"]})
        elif not keep_current:
            targets = [{"Key": k} for k in keys]
        for start in range(0, len(targets), 1000):
            self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": targets[start : start + 1000], "Quiet": True},
            )
