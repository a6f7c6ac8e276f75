"""Sending a reply exactly once, at the pace Meta allows.

A turn can be replayed (a worker died, a retry): the reply of an inbound message is sent at most
once. The record `wam:sent:<message_id>` is written *before* the send (an intent), and completed
with Meta's message ids after it; a replay that finds it sends nothing. A send that fails in a way
that proves Meta did not take it removes the intent, so the retry sends; a send whose outcome is
unknown (a timeout while reading Meta's answer, a crash mid-send) keeps it: the customer may miss a
reply in that rare case, but never gets two.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis

from server.accounts import BusinessAccount
from server.metrics import Metrics
from server.pacing import SendPacer
from server.queue import CALLBACK_PREFIX, InboundItem, Keys
from server.whatsapp import (
    OutsideWindowError,
    SendOutcomeUnknownError,
    WhatsAppSender,
    buttons_payload,
    choices_payload,
    extract_choices,
    split_text,
    template_payload,
    text_payload,
)
from stores import Stores

log = structlog.get_logger(__name__)


@dataclass
class Reply:
    """What goes back to the customer: text, and reply buttons (id, title) when offered."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    agent_id: str | None = None
    # An approved template (name, language, body parameters) instead of text.
    template: tuple[str, str, list[str]] | None = None


def reply_payloads(to: str, reply: Reply) -> list[dict[str, Any]]:
    """Meta's message payloads for a reply: a template, or text pieces of at most 4096
    characters, buttons on the last piece, a numbered list of options as buttons or a list."""
    if reply.template is not None:
        name, language, parameters = reply.template
        return [template_payload(to, name, language, parameters)]
    text = reply.text
    if reply.buttons:
        pieces = split_text(text, 1024) if len(text) > 1024 else [text]
        head = [text_payload(to, piece) for piece in pieces[:-1]]
        return [*head, buttons_payload(to, pieces[-1] if pieces else "…", reply.buttons)]
    choices = extract_choices(text)
    if choices and len(text) <= 1024:
        return [choices_payload(to, choices)]
    return [text_payload(to, piece) for piece in split_text(text)]


class ReplySender:
    def __init__(
        self,
        *,
        redis: Redis,
        sender: WhatsAppSender,
        stores: Stores,
        pacer: SendPacer,
        metrics: Metrics,
        ttl_seconds: int = 7 * 24 * 3600,
        reconcile_seconds: float = 20.0,
    ) -> None:
        self.redis = redis
        self.sender = sender
        self.stores = stores
        self.pacer = pacer
        self.metrics = metrics
        self.ttl = ttl_seconds
        self.reconcile_seconds = reconcile_seconds
        self._background: set[asyncio.Task[None]] = set()

    async def send_once(self, account: BusinessAccount, last: InboundItem, reply: Reply) -> None:
        """Send `reply` to the message `last` once, however often the turn is replayed."""
        await self.send_keyed(account, last.wa_id, last.message_id, reply)

    async def send_keyed(
        self,
        account: BusinessAccount,
        to: str,
        key_id: str,
        reply: Reply,
        *,
        raise_outside_window: bool = False,
    ) -> list[str]:
        """Send `reply` once per `key_id` (an inbound message id, or a person's message id in the
        inbox); Meta's message ids (none when it was sent before). Raises
        `SendOutcomeUnknownError` when Meta may or may not have taken it: the next call with the
        same `key_id` settles it (sends only if Meta reported nothing for it)."""
        key = Keys.sent(key_id)
        if not await self._claim(key, key_id):
            return []
        try:
            wamids = await self.send(
                account, to, reply, tag=key_id, raise_outside_window=raise_outside_window
            )
        except SendOutcomeUnknownError as error:
            # Meta may or may not have it. The intent stays and the turn fails, so it is tried
            # again: the retry sends only if Meta reported no status for it within
            # `reconcile_seconds`, as after a crash mid-send (before, the reply was dropped, and
            # a stale keep-alive connection was enough to leave a customer without an answer).
            log.warning("reply send outcome unknown; settled by the retry", error=str(error)[:200])
            self.metrics.sends.labels(outcome="unknown").inc()
            raise
        except BaseException:
            await self.redis.delete(key)  # Meta did not take it: the retry may send
            raise
        await self.redis.set(key, json.dumps({"state": "sent", "wamids": wamids}), ex=self.ttl)
        try:
            await self.stores.conversations.amark_sent(f"{key_id}:reply", wamids)
        except Exception as error:
            log.warning("sent status not recorded", error=repr(error)[:200])
        self._after_reply(f"{key_id}:reply")
        return wamids

    def _after_reply(self, reply_id: str) -> None:
        """The person's profile counts the turn, in the background: off the reply path."""
        if self.stores.profiles is None:
            return
        task = asyncio.create_task(self._update_profile(reply_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _update_profile(self, reply_id: str) -> None:
        try:
            reply = await self.stores.conversations.alogged(reply_id)
            if reply is not None and reply.role == "assistant" and self.stores.profiles:
                await self.stores.profiles.arecord_reply(reply)
        except Exception as error:
            log.warning("profile not updated", error=repr(error)[:200])

    async def _claim(self, key: str, message_id: str) -> bool:
        """Record the intent to send; False when the reply was sent (or Meta confirmed it).

        An intent left by a process that died mid-send is reconciled: if Meta reported a status
        for it (`biz_opaque_callback_data` names the inbound message), it was sent; if no status
        came within `reconcile_seconds`, Meta never took it, and this process sends it.
        """
        intent = {"state": "sending", "at": time.time()}
        if await self.redis.set(key, json.dumps(intent), nx=True, ex=self.ttl):
            return True
        while True:
            raw = await self.redis.get(key)
            record = json.loads(raw) if raw else {"state": "gone"}
            if record["state"] == "sent" or await self.redis.exists(Keys.taken(message_id)):
                log.info("reply already sent; not sending again")
                return False
            age = time.time() - float(record.get("at", 0))
            if record["state"] == "gone" or age >= self.reconcile_seconds:
                log.warning("an interrupted send was never confirmed by Meta; sending it now")
                await self.redis.set(key, json.dumps(intent), ex=self.ttl)
                return True
            await asyncio.sleep(min(1.0, self.reconcile_seconds - age))

    async def send(
        self,
        account: BusinessAccount,
        to: str,
        reply: Reply,
        tag: str | None = None,
        *,
        raise_outside_window: bool = False,
    ) -> list[str]:
        """Send now (paced per business number); Meta's message ids. `tag` comes back in Meta's
        status webhooks (`biz_opaque_callback_data`), which is how an interrupted send is
        reconciled."""
        wamids: list[str] = []
        for payload in reply_payloads(to, reply):
            if tag:
                payload["biz_opaque_callback_data"] = CALLBACK_PREFIX + tag
            await self.pacer.take(account.phone_number_id, account.messages_per_second)
            try:
                wamids.append(
                    await self.sender.send(account.phone_number_id, account.access_token, payload)
                )
                self.metrics.sends.labels(outcome="sent").inc()
            except OutsideWindowError as error:
                self.metrics.sends.labels(outcome="outside_window").inc()
                log.warning("reply not sent: the 24-hour window is closed", code=error.code)
                if raise_outside_window:
                    raise
                return wamids
            except SendOutcomeUnknownError:
                raise
            except Exception:
                self.metrics.sends.labels(outcome="error").inc()
                raise
        return wamids
