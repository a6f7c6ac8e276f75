"""Access to and erasure of one person's data in every store (GDPR articles 15 and 17).

`PersonalDataService.erase(wa_id)` removes the person from:

- Redis: the checkpoints of every thread `<phone_number_id>:<wa_id>` (the saver's
  `adelete_thread`, for each business account the person wrote to), then every key whose name
  holds the number (a SCAN for leftovers: mailbox, lock, burst records, opt-in cache, handoff
  state and transcript, simulator outbox, canned-send records), the handoff index entries, the
  person's entries on the inbound stream, and the keys named by their message ids (reply cache,
  sent records, Meta's acknowledgements, attempts, dedupe claims).
- DynamoDB and S3 (`stores.erasure.PersonalData`): conversation items and guards, user, profile,
  customer records, media and media index, and their rows in the Parquet exports.

It returns the deletion report (per store, counts). It is idempotent (a second run reports zero)
and resumable: a job record (`wam:erasure:<subject>`, holding the message ids read before any
deletion and the counts so far) lets a run that crashed midway finish with the same totals. The
audit log line names the person by a pseudonym (`subject`), never by number.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis

from server.handoff import HandoffStore
from server.queue import SEEN_PREFIX, STREAM, Keys
from stores.erasure import GUARD_PREFIX, PersonalData, message_ids
from stores.media_index import subject_of

log = structlog.get_logger(__name__)

STEPS = ("plan", "redis", "s3_media", "s3_exports", "dynamodb")
JOB_SECONDS = 7 * 24 * 3600
_NUMBER = re.compile(r"^\d{6,15}$")


class InvalidNumberError(ValueError):
    """Not a WhatsApp number (6 to 15 digits, with or without `+`)."""


def normalize_wa_id(value: str) -> str:
    digits = value.strip().removeprefix("whatsapp:").lstrip("+").replace(" ", "")
    if not _NUMBER.match(digits):
        raise InvalidNumberError("a WhatsApp number is 6 to 15 digits, e.g. +15550001")
    return digits


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _holds(name: str, wa_id: str) -> bool:
    """The key names this number (not a longer number containing it)."""
    return re.search(rf"(?<!\d){wa_id}(?!\d)", name) is not None


SaverOpener = Callable[[], Any]  # an async context manager yielding an AsyncRedisSaver


class PersonalDataService:
    def __init__(
        self,
        redis: Redis,
        data: PersonalData,
        open_saver: SaverOpener,
        accounts: list[str],
    ) -> None:
        self.redis = redis
        self.data = data
        self.open_saver = open_saver
        self.accounts = accounts

    # Erasure ----------------------------------------------------------------------------------

    async def erase(self, wa_id: str, *, stop_after: str | None = None) -> dict[str, Any]:
        """Erase the person; `stop_after` ends the run after that step (a crash, for tests)."""
        wa_id = normalize_wa_id(wa_id)
        subject = subject_of(wa_id)
        job_key = f"wam:erasure:{subject}"
        raw = await self.redis.get(job_key)
        job: dict[str, Any] = json.loads(raw) if raw else {"done": [], "counts": {}, "ids": []}
        job.setdefault("started", datetime.now(UTC).isoformat())
        steps: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
            "plan": lambda: self._plan(wa_id, job),
            "redis": lambda: self._erase_redis(wa_id, job),
            "s3_media": lambda: asyncio.to_thread(self.data.erase_media, wa_id),
            "s3_exports": lambda: asyncio.to_thread(self.data.erase_exports, wa_id),
            "dynamodb": lambda: asyncio.to_thread(self.data.erase_dynamodb, wa_id),
        }
        for step in STEPS:
            if step not in job["done"]:
                counts = await steps[step]()
                job["counts"][step] = counts
                job["done"].append(step)
                await self.redis.set(job_key, json.dumps(job), ex=JOB_SECONDS)
            if step == stop_after:
                return self._report(subject, job, complete=False)
        await self.redis.delete(job_key)
        report = self._report(subject, job, complete=True)
        log.info(
            "personal data erased",
            subject=subject,
            total=report["total"],
            resumed=bool(raw),
            **{f"{store}_count": sum(c.values()) for store, c in report["deleted"].items()},
        )
        return report

    @staticmethod
    def _report(subject: str, job: dict[str, Any], *, complete: bool) -> dict[str, Any]:
        counts = job["counts"]
        deleted = {
            "redis": dict(counts.get("redis", {})),
            "dynamodb": dict(counts.get("dynamodb", {})),
            "s3": {**counts.get("s3_media", {}), **counts.get("s3_exports", {})},
        }
        return {
            "subject": subject,
            "deletion_date": datetime.now(UTC).isoformat(),
            "started": job["started"],
            "complete": complete,
            "deleted": deleted,
            "total": sum(sum(c.values()) for c in deleted.values()),
        }

    async def _plan(self, wa_id: str, job: dict[str, Any]) -> dict[str, Any]:
        """Read the ids Redis keys are named by, before DynamoDB forgets them."""
        items = await asyncio.to_thread(self.data.conversation_items, wa_id)
        ids = set(message_ids(items))
        guards = await asyncio.to_thread(self.data.guard_items, wa_id, sorted(ids))
        ids |= {str(g["user_id"]).removeprefix(GUARD_PREFIX) for g in guards}
        ids |= {i.removesuffix(":reply") for i in ids}
        accounts = {str(i["business_account_id"]) for i in items if i.get("business_account_id")}
        job["ids"] = sorted(ids)
        job["accounts"] = sorted(accounts | set(self.accounts))
        return {}

    async def _erase_redis(self, wa_id: str, job: dict[str, Any]) -> dict[str, int]:
        named = await self._keys_naming(wa_id)
        checkpoint_keys = [k for k in named if k.startswith("checkpoint")]
        accounts = set(job.get("accounts", []))
        for key in checkpoint_keys:
            match = re.match(rf"^checkpoint\w*:(\d+):{wa_id}(?::|$)", key)
            if match:
                accounts.add(match.group(1))
        threads = {f"{account}:{wa_id}" for account in accounts}
        with_checkpoints = {t for t in threads if any(f":{t}:" in f"{k}:" for k in checkpoint_keys)}
        async with self.open_saver() as saver:
            for thread in sorted(with_checkpoints):
                await saver.adelete_thread(thread)
        leftovers = await self._keys_naming(wa_id)
        if leftovers:
            await self.redis.delete(*leftovers)
        stream_ids, stream_entries = await self._erase_stream(wa_id)
        ids = set(job.get("ids", [])) | stream_ids
        message_keys = 0
        for message_id in sorted(ids):
            names = [
                Keys.reply(message_id),
                Keys.sent(message_id),
                Keys.taken(message_id),
                Keys.attempts(message_id),
                SEEN_PREFIX + message_id,
                f"wam:outbox:read:{message_id}",
            ]
            message_keys += int(await self.redis.delete(*names))
        return {
            "checkpoint_threads": len(with_checkpoints),
            "checkpoint_keys": len(checkpoint_keys),
            "keys": len([k for k in leftovers if k not in set(checkpoint_keys)]),
            "handoff_index_entries": await self._erase_index_entries(wa_id),
            "stream_entries": stream_entries,
            "message_keys": message_keys,
        }

    async def _keys_naming(self, wa_id: str) -> list[str]:
        found = []
        async for key in self.redis.scan_iter(match=f"*{wa_id}*", count=1000):
            name = _text(key)
            if _holds(name, wa_id) and not name.startswith("wam:erasure:"):
                found.append(name)
        return found

    async def _erase_index_entries(self, wa_id: str) -> int:
        removed = 0
        async for index in self.redis.scan_iter(match=HandoffStore.index("*"), count=1000):
            members = [
                member
                async for member, _ in self.redis.zscan_iter(index, match=f"*:{wa_id}")
                if _holds(_text(member), wa_id)
            ]
            if members:
                removed += int(await self.redis.zrem(index, *members))
        return removed

    async def _erase_stream(self, wa_id: str) -> tuple[set[str], int]:
        """The person's entries on the inbound stream (their message ids, and XDEL)."""
        ids: set[str] = set()
        entries: list[str] = []
        start = "-"
        while True:
            page = await self.redis.xrange(STREAM, min=start, max="+", count=500) or []
            for entry_id, fields in page:
                values = {_text(k): _text(v) for k, v in (fields or {}).items()}
                if values.get("wa_id") == wa_id:
                    entries.append(_text(entry_id))
                    if values.get("message_id"):
                        ids.add(values["message_id"])
            if len(page) < 500:
                break
            start = "(" + _text(page[-1][0])
        if entries:
            await self.redis.xdel(STREAM, *entries)
        return ids, len(entries)

    # Access -----------------------------------------------------------------------------------

    async def access(self, wa_id: str) -> dict[str, Any]:
        """Everything stored about the person, JSON-ready."""
        wa_id = normalize_wa_id(wa_id)
        stored = await asyncio.to_thread(self.data.access, wa_id)
        keys = await self._keys_naming(wa_id)
        threads = sorted(
            {
                m.group(1)
                for k in keys
                if (m := re.match(rf"^checkpoint\w*:(\d+:{wa_id})(?::|$)", k)) is not None
            }
        )
        sessions = {}
        async with self.open_saver() as saver:
            for thread in threads:
                sessions[thread] = await self._session(saver, thread)
        cached = {
            key: await self._value(key) for key in sorted(keys) if not key.startswith("checkpoint")
        }
        log.info("personal data exported", subject=subject_of(wa_id))
        return {
            "subject": subject_of(wa_id),
            "whatsapp_number": f"+{wa_id}",
            "generated_at": datetime.now(UTC).isoformat(),
            "dynamodb": {k: v for k, v in stored.items() if k != "media"},
            "s3": {"media": stored["media"]},
            "redis": {"sessions": sessions, "keys": cached},
        }

    @staticmethod
    async def _session(saver: Any, thread: str) -> list[dict[str, Any]]:
        config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        found = await saver.aget_tuple(config)
        if found is None:
            return []
        messages = found.checkpoint.get("channel_values", {}).get("messages", [])
        return [
            {"type": getattr(m, "type", "message"), "content": getattr(m, "content", str(m))}
            for m in messages
        ]

    async def _value(self, key: str) -> Any:
        kind = _text(await self.redis.type(key))
        if kind == "string":
            return _text(await self.redis.get(key))
        if kind == "hash":
            raw = await self.redis.hgetall(key)  # type: ignore[misc]
            return {_text(k): _text(v) for k, v in raw.items()}
        if kind == "list":
            return [_text(v) for v in await self.redis.lrange(key, 0, -1)]  # type: ignore[misc]
        if kind == "zset":
            return [_text(v) for v in await self.redis.zrange(key, 0, -1)]
        if kind == "set":
            return sorted(_text(v) for v in await self.redis.smembers(key))  # type: ignore[misc]
        return f"<{kind}>"
