"""Workers: consume the inbound stream, run one turn at a time per user, reply, acknowledge.

Per user thread (`<phone_number_id>:<wa_id>`):
- every entry read goes into the thread's mailbox (a sorted set of stream ids; re-adding is a
  no-op);
- the worker that takes the thread's lock answers everything in the mailbox as one turn, so a
  burst of messages sent while a turn runs is merged into the next turn;
- entries are acknowledged only after the reply is sent and the turn is logged; a crashed
  worker's entries are claimed by another after the visibility timeout (`XAUTOCLAIM`), its lock
  expires, and the turn is replayed. A turn's reply is cached by its last inbound id and its send
  is recorded, so a replay neither runs the model twice nor sends twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis

from graph import SupervisorGraph, TurnResult, run_turn
from server.accounts import AccountRegistry, BusinessAccount
from server.masking import mask_phone
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.queue import InboundQueue
from server.whatsapp import (
    OutsideWindowError,
    WhatsAppSender,
    choices_payload,
    extract_choices,
    split_text,
    text_payload,
)
from stores import ConversationMessage, Stores, whatsapp_user_id

log = structlog.get_logger(__name__)

OPT_OUT = frozenset({"STOP", "BAJA", "UNSUBSCRIBE", "CANCELAR"})
OPT_IN = frozenset({"START", "ALTA", "SUBSCRIBE", "UNSTOP"})
REPLIES = {
    "opted_out": {
        "en": "You will not receive more messages from us. Send START to talk again.",
        "es": "No recibirás más mensajes nuestros. Envía ALTA para volver a hablar.",
    },
    "opted_in": {
        "en": "Welcome back! How can we help you?",
        "es": "¡Bienvenido de nuevo! ¿En qué te podemos ayudar?",
    },
    "voice": {
        "en": "Sorry, I can't listen to voice notes yet. Could you write your message?",
        "es": "Lo siento, todavía no puedo escuchar notas de voz. ¿Puedes escribir tu mensaje?",
    },
    "failed": {
        "en": "Sorry, something went wrong on our side. A person from our team will follow up.",
        "es": "Lo siento, algo falló de nuestro lado. Una persona de nuestro equipo te contactará.",
    },
}
_RELEASE_IF_EMPTY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True)
class InboundItem:
    """One inbound message as queued by the webhook."""

    entry_id: str
    message_id: str
    phone_number_id: str
    wa_id: str
    type: str
    text: str
    media_id: str = ""
    mime_type: str = ""
    contact_name: str = ""

    @classmethod
    def from_entry(cls, entry_id: str, fields: dict[str, str]) -> InboundItem:
        return cls(
            entry_id=entry_id,
            message_id=fields["message_id"],
            phone_number_id=fields["phone_number_id"],
            wa_id=fields["wa_id"],
            type=fields.get("type", "text"),
            text=fields.get("text", ""),
            media_id=fields.get("media_id", ""),
            mime_type=fields.get("mime_type", ""),
            contact_name=fields.get("contact_name", ""),
        )

    @property
    def thread_id(self) -> str:
        return f"{self.phone_number_id}:{self.wa_id}"


def _score(entry_id: str) -> float:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds) * 1000 + int(sequence or 0)


@dataclass
class WorkerSettings:
    visibility_timeout_ms: int = 60_000
    lock_ttl_ms: int | None = None  # default: the visibility timeout (refreshed while alive)
    max_deliveries: int = 5
    burst_window_ms: int = 800
    transcribe: bool = False
    reply_ttl_seconds: int = 7 * 24 * 3600


GraphFor = Callable[[BusinessAccount], Awaitable[SupervisorGraph]]


class Worker:
    def __init__(
        self,
        *,
        redis: Redis,
        queue: InboundQueue,
        accounts: AccountRegistry,
        graph_for: GraphFor,
        sender: WhatsAppSender,
        stores: Stores,
        media: MediaStore | None = None,
        transcriber: Transcriber | None = None,
        metrics: Metrics | None = None,
        settings: WorkerSettings | None = None,
        name: str | None = None,
    ) -> None:
        self.redis = redis
        self.queue = queue
        self.accounts = accounts
        self.graph_for = graph_for
        self.sender = sender
        self.stores = stores
        self.media = media
        self.transcriber = transcriber
        self.metrics = metrics or Metrics()
        self.settings = settings or WorkerSettings()
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self._release_if_empty = redis.register_script(_RELEASE_IF_EMPTY)
        self._release = redis.register_script(_RELEASE)
        self._refresh = redis.register_script(_REFRESH)

    # The loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.queue.ensure_group()
        log.info("worker started", worker=self.name)
        last_claim = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - last_claim > self.settings.visibility_timeout_ms / 4000:
                    last_claim = time.monotonic()
                    await self.handle_entries(
                        await self.queue.claim_stale(self.name, self.settings.visibility_timeout_ms)
                    )
                await self.handle_entries(await self.queue.read(self.name, block_ms=500))
                self.metrics.queue_depth.set(await self.queue.depth())
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("worker loop error", worker=self.name, error=repr(error)[:300])
                await asyncio.sleep(1)
        log.info("worker stopped", worker=self.name)

    async def handle_entries(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Mail every entry of a read first, then answer each thread: a burst is one turn."""
        threads: list[str] = []
        for entry_id, fields in entries:
            try:
                item = InboundItem.from_entry(entry_id, fields)
            except KeyError as error:
                log.error("malformed queue entry dropped", entry_id=entry_id, missing=str(error))
                await self.queue.ack([entry_id])
                continue
            await self.redis.zadd(
                f"wam:mbox:{item.thread_id}", {entry_id: _score(entry_id)}, nx=True
            )
            if item.thread_id not in threads:
                threads.append(item.thread_id)
        for thread_id in threads:
            await self.drain(thread_id)

    # One thread at a time -------------------------------------------------------------------

    async def drain(self, thread_id: str) -> None:
        """Answer the thread's mailbox, turn after turn, while this worker holds its lock."""
        lock, mailbox = f"wam:lock:{thread_id}", f"wam:mbox:{thread_id}"
        if not await self.redis.set(lock, self.name, nx=True, px=self._lock_ttl_ms):
            return
        keeper = asyncio.create_task(self._keep_lock(lock))
        try:
            while True:
                members: list[Any] = await self.redis.zrange(mailbox, 0, -1)
                ids = [i.decode() if isinstance(i, bytes) else str(i) for i in members]
                if not ids:
                    if await self._release_if_empty(keys=[lock, mailbox], args=[self.name]) != 0:
                        return
                    continue
                if await self._burst_still_arriving(ids[-1]):
                    continue
                entries = await self.queue.fetch(ids)
                found = {entry_id for entry_id, _ in entries}
                if missing := [i for i in ids if i not in found]:
                    await self.redis.zrem(mailbox, *missing)  # trimmed from the stream
                if not entries:
                    continue
                items = [InboundItem.from_entry(entry_id, fields) for entry_id, fields in entries]
                await self._answer_with_retries(items)
                await self.queue.ack([i.entry_id for i in items])
                await self.redis.zrem(mailbox, *[i.entry_id for i in items])
        except BaseException:
            await self._release(keys=[lock], args=[self.name])
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _burst_still_arriving(self, newest_entry_id: str) -> bool:
        """Wait out the burst window after the newest message (by Redis's clock), so messages a
        user sends in a row are answered as one turn. True when it waited (re-read the mailbox)."""
        window = self.settings.burst_window_ms
        if window <= 0:
            return False
        seconds, microseconds = await self.redis.time()
        now_ms = seconds * 1000 + microseconds // 1000
        age = now_ms - int(newest_entry_id.split("-")[0])
        if age >= window:
            return False
        await asyncio.sleep((window - age) / 1000)
        return True

    @property
    def _lock_ttl_ms(self) -> int:
        return self.settings.lock_ttl_ms or self.settings.visibility_timeout_ms

    async def _keep_lock(self, lock: str) -> None:
        """A live worker keeps its thread; a dead one loses it after one lock TTL."""
        while True:
            await asyncio.sleep(self._lock_ttl_ms / 3000)
            await self._refresh(keys=[lock], args=[self.name, self._lock_ttl_ms])

    async def _answer_with_retries(self, items: list[InboundItem]) -> None:
        """Answer; on failure count the delivery, and give up politely after `max_deliveries`."""
        key = f"wam:attempts:{items[-1].message_id}"
        try:
            await self.answer(items)
        except Exception as error:
            attempts = await self.redis.incr(key)
            await self.redis.expire(key, 86_400)
            log.error(
                "turn failed",
                message_id=items[-1].message_id,
                attempt=attempts,
                error=repr(error)[:300],
            )
            if attempts < self.settings.max_deliveries:
                raise
            account = self.accounts.get(items[-1].phone_number_id)
            if account is not None:
                with contextlib.suppress(Exception):
                    await self._send_text(account, items[-1], REPLIES["failed"]["en"])
            log.error("turn abandoned", message_id=items[-1].message_id)

    # One turn -------------------------------------------------------------------------------

    async def answer(self, items: list[InboundItem]) -> None:
        last = items[-1]
        bound = structlog.contextvars.bound_contextvars(
            message_id=last.message_id, user=mask_phone(last.wa_id), worker=self.name
        )
        with bound:
            account = self.accounts.get(last.phone_number_id)
            if account is None:
                log.warning(
                    "no business account owns this number; not answered",
                    phone_number_id=last.phone_number_id,
                )
                return
            started = time.perf_counter()
            commands = {item.text.strip().upper() for item in items if item.type == "text"}
            if commands & OPT_OUT:
                await self.stores.users.aset_opted_in(last.wa_id, False)
                await self.redis.set(f"wam:optin:{last.wa_id}", 0, ex=86_400)
                await self._reply_once(account, last, REPLIES["opted_out"][self._language(items)])
                log.info("user opted out")
                return
            if commands & OPT_IN:
                await self.stores.users.aset_opted_in(last.wa_id, True)
                await self.redis.set(f"wam:optin:{last.wa_id}", 1, ex=86_400)
                await self._reply_once(account, last, REPLIES["opted_in"][self._language(items)])
                log.info("user opted in")
                return
            if not await self._opted_in(last.wa_id):
                await self._log_unanswered(items, "opted_out")
                log.info("user opted out; message logged, not answered")
                return
            if all(item.type in ("reaction", "system") for item in items):
                await self._log_unanswered(items, "no_reply_needed")
                return
            texts, types = await self._prepare(account, items)
            if not texts:
                await self._reply_once(account, last, REPLIES["voice"][self._language(items)])
                return
            with contextlib.suppress(Exception):
                await self.sender.mark_read(
                    account.phone_number_id, account.access_token, last.message_id
                )
            reply, agent = await self._turn(account, items, texts, types)
            await self._reply_once(account, last, reply)
            self.metrics.turn_seconds.labels(agent=agent or "none").observe(
                time.perf_counter() - started
            )

    async def _turn(
        self,
        account: BusinessAccount,
        items: list[InboundItem],
        texts: list[str],
        types: list[str],
    ) -> tuple[str, str | None]:
        """Run the graph once per inbound burst; a replay reuses the cached reply."""
        cache = f"wam:reply:{items[-1].message_id}"
        cached = await self.redis.get(cache)
        if cached is not None:
            data = json.loads(cached)
            return str(data["reply"]), data.get("agent")
        graph = await self.graph_for(account)
        model_started = time.perf_counter()
        result: TurnResult = await run_turn(
            graph,
            phone_number_id=account.phone_number_id,
            wa_id=items[-1].wa_id,
            texts=texts,
            message_ids=[item.message_id for item in items],
            message_types=types,
        )
        self.metrics.model_seconds.labels(model_id=result.model_id or "none").observe(
            time.perf_counter() - model_started
        )
        log.info(
            "turn answered",
            agent=result.agent_id,
            tools=result.tools,
            escalation=result.escalation_triggered,
        )
        await self.redis.set(
            cache,
            json.dumps({"reply": result.reply, "agent": result.agent_id}),
            ex=self.settings.reply_ttl_seconds,
        )
        return result.reply, result.agent_id

    async def _prepare(
        self, account: BusinessAccount, items: list[InboundItem]
    ) -> tuple[list[str], list[str]]:
        """What the agents read for each message: text, a transcript, or what media arrived."""
        texts, types = [], []
        for item in items:
            if item.type in ("reaction", "system"):
                continue
            text = item.text
            if item.media_id and self.media is not None:
                try:
                    content, mime = await self.sender.download_media(
                        account.access_token, item.media_id
                    )
                    key = await self.media.put(
                        item.type, item.message_id, content, mime or item.mime_type
                    )
                    text = f"{text} (stored as s3://{self.media.bucket}/{key})"
                    if item.type == "audio":
                        if not (self.settings.transcribe and self.transcriber):
                            continue
                        text = await self.transcriber.atranscribe(key)
                except Exception as error:
                    log.warning("media not stored", error=repr(error)[:200], type=item.type)
                    if item.type == "audio":
                        continue
            elif item.type == "audio":
                continue
            texts.append(text)
            types.append(item.type)
        return texts, types

    async def _opted_in(self, wa_id: str) -> bool:
        """The user's opt-in state: DynamoDB is the record, Redis caches it for a day."""
        cached = await self.redis.get(f"wam:optin:{wa_id}")
        if cached is not None:
            return bool(cached == b"1")
        opted_in = await self.stores.users.ais_opted_in(wa_id)
        await self.redis.set(f"wam:optin:{wa_id}", int(opted_in), ex=86_400)
        return opted_in

    @staticmethod
    def _language(items: list[InboundItem]) -> str:
        from tools import detect_language

        return detect_language(" ".join(i.text for i in items))

    async def _reply_once(self, account: BusinessAccount, last: InboundItem, text: str) -> None:
        """Send `text` once per inbound message id, however often the turn is replayed."""
        sent_key = f"wam:sent:{last.message_id}"
        if await self.redis.exists(sent_key):
            log.info("reply already sent; not sending again")
            return
        wamids = await self._send_text(account, last, text)
        await self.redis.set(sent_key, ",".join(wamids), ex=self.settings.reply_ttl_seconds)
        try:
            await self.stores.conversations.amark_sent(f"{last.message_id}:reply", wamids)
        except Exception as error:
            log.warning("sent status not recorded", error=repr(error)[:200])

    async def _send_text(self, account: BusinessAccount, last: InboundItem, text: str) -> list[str]:
        choices = extract_choices(text)
        payloads = (
            [choices_payload(last.wa_id, choices)]
            if choices and len(text) <= 1024
            else [text_payload(last.wa_id, piece) for piece in split_text(text)]
        )
        wamids = []
        for payload in payloads:
            try:
                wamids.append(
                    await self.sender.send(account.phone_number_id, account.access_token, payload)
                )
                self.metrics.sends.labels(outcome="sent").inc()
            except OutsideWindowError as error:
                self.metrics.sends.labels(outcome="outside_window").inc()
                log.warning("reply not sent: the 24-hour window is closed", code=error.code)
                return wamids
            except Exception:
                self.metrics.sends.labels(outcome="error").inc()
                raise
        return wamids

    async def _log_unanswered(self, items: list[InboundItem], reason: str) -> None:
        for item in items:
            await self.stores.conversations.aappend(
                ConversationMessage(
                    user_id=whatsapp_user_id(item.wa_id),
                    session_id=f"unanswered:{item.phone_number_id}",
                    message_id=item.message_id,
                    direction="inbound",
                    role="user",
                    message_type=item.type,
                    content=item.text or f"[{item.type}]",
                    metadata={"not_answered": reason},
                )
            )


def queue_fields(**values: Any) -> dict[str, str]:
    """Stream fields are strings; empty values are left out."""
    return {k: str(v) for k, v in values.items() if v not in (None, "")}
