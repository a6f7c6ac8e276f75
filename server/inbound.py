"""What happens to one burst of a customer's messages: a chain of small steps.

Each step looks at the burst and either passes (None) or finishes it (`Done`, with the reply to
send, if any): opt-out, opt-in, silence for opted-out users, nothing to answer for reactions and
system notices, and finally the graph turn (media stored, voice notes transcribed when enabled).
A replayed burst reuses the reply cached by its last message id, so the model never runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from importlib import resources

import structlog
import yaml
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from redis.asyncio import Redis

from graph import SupervisorGraph, run_turn
from server.accounts import BusinessAccount
from server.handoff import Handoff
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.queue import InboundItem, Keys
from server.reading import NO_REPLY_TYPES, BurstReader, Prepared
from server.replies import Reply
from server.whatsapp import WhatsAppSender
from stores import ConversationMessage, Stores, whatsapp_user_id

log = structlog.get_logger(__name__)

# Not "CANCELAR": a Spanish customer says it to cancel a proposed change, not to unsubscribe.
OPT_OUT = frozenset({"STOP", "BAJA", "UNSUBSCRIBE"})
OPT_IN = frozenset({"START", "ALTA", "SUBSCRIBE", "UNSTOP"})
SPANISH_COMMANDS = frozenset({"BAJA", "ALTA"})


@cache
def canned_replies() -> dict[str, dict[str, str]]:
    text = (resources.files("server") / "data" / "canned.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def canned(name: str, language: str) -> str:
    replies = canned_replies()[name]
    return replies.get(language) or replies["en"]


@dataclass(frozen=True)
class Burst:
    """Messages of one thread answered as one turn (in stream order)."""

    account: BusinessAccount
    items: list[InboundItem]

    @property
    def last(self) -> InboundItem:
        return self.items[-1]

    @cached_property
    def commands(self) -> set[str]:
        return {i.text.strip().upper() for i in self.items if i.type == "text"}

    @cached_property
    def language(self) -> str:
        from tools import detect_language

        if self.commands & SPANISH_COMMANDS:
            return "es"
        return detect_language(" ".join(i.text for i in self.items))


@dataclass(frozen=True)
class Done:
    reply: Reply | None = None


Step = Callable[[Burst], Awaitable[Done | None]]
GraphFor = Callable[[BusinessAccount], Awaitable[SupervisorGraph]]


class InboundHandler:
    def __init__(
        self,
        *,
        redis: Redis,
        stores: Stores,
        sender: WhatsAppSender,
        graph_for: GraphFor,
        metrics: Metrics,
        media: MediaStore | None = None,
        transcriber: Transcriber | None = None,
        transcribe: bool = False,
        handoff: Handoff | None = None,
        reply_ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self.redis = redis
        self.stores = stores
        self.sender = sender
        self.graph_for = graph_for
        self.metrics = metrics
        self.reader = BurstReader(sender, media, transcriber if transcribe else None)
        self.handoff = handoff
        self._tasks: set[asyncio.Task[None]] = set()
        self.reply_ttl_seconds = reply_ttl_seconds
        self.steps: list[Step] = [
            self.opt_out,
            self.opt_in,
            self.silent_when_opted_out,
            self.nothing_to_answer,
            self.person_holds_thread,
            self.graph_turn,
        ]

    async def handle(self, burst: Burst) -> Reply | None:
        """The reply to send for `burst` (None: nothing to send)."""
        for step in self.steps:
            done = await step(burst)
            if done is not None:
                return done.reply
        return None

    # Steps ---------------------------------------------------------------------------------

    async def opt_out(self, burst: Burst) -> Done | None:
        if not burst.commands & OPT_OUT:
            return None
        await self._set_opted_in(burst.account.phone_number_id, burst.last.wa_id, False)
        log.info("user opted out")
        return Done(Reply(canned("opted_out", burst.language)))

    async def opt_in(self, burst: Burst) -> Done | None:
        if not burst.commands & OPT_IN:
            return None
        await self._set_opted_in(burst.account.phone_number_id, burst.last.wa_id, True)
        log.info("user opted in")
        return Done(Reply(canned("opted_in", burst.language)))

    async def silent_when_opted_out(self, burst: Burst) -> Done | None:
        if await self._opted_in(burst.account.phone_number_id, burst.last.wa_id):
            return None
        await self._log_unanswered(burst.items, "opted_out")
        log.info("user opted out; message logged, not answered")
        return Done()

    async def nothing_to_answer(self, burst: Burst) -> Done | None:
        if any(item.type not in NO_REPLY_TYPES for item in burst.items):
            return None
        await self._log_unanswered(burst.items, "no_reply_needed")
        return Done()

    async def person_holds_thread(self, burst: Burst) -> Done | None:
        """While a person holds the thread (waiting or assigned) the bot is silent: the
        customer's messages are logged and go to the inbox."""
        if self.handoff is None:
            return None
        record = await self.handoff.record(burst.account.phone_number_id, burst.last.wa_id)
        if not record.held:
            return None
        prepared = await self.reader.read(burst.account, burst.items)
        for text, message_id, kind in zip(
            prepared.texts, prepared.message_ids, prepared.types, strict=True
        ):
            await self.stores.conversations.aappend(
                ConversationMessage(
                    user_id=whatsapp_user_id(burst.last.wa_id),
                    session_id=f"handoff:{record.thread_id}",
                    message_id=message_id,
                    direction="inbound",
                    role="user",
                    message_type=kind,
                    content=text or f"[{kind}]",
                    business_account_id=burst.account.phone_number_id,
                    metadata={"handoff_state": record.state},
                )
            )
            await self.handoff.customer_wrote(record, text, message_id)
        log.info("a person holds this thread; the bot stays silent", state=record.state)
        return Done()

    async def graph_turn(self, burst: Burst) -> Done:
        cached = await self.redis.get(Keys.reply(burst.last.message_id))
        if cached is not None:
            data = json.loads(cached)
            buttons = [(str(key), str(title)) for key, title in data.get("buttons", [])]
            return Done(Reply(str(data["text"]), buttons, data.get("agent_id")))
        await self._take_back_from_person(burst)
        prepared = await self.reader.read(burst.account, burst.items)
        if not prepared.texts:
            return Done(Reply(canned("voice", burst.language)))
        # Blue ticks and the typing indicator, while the agents work (not before: one round trip
        # to Meta less on every turn).
        self._background(
            self.sender.mark_read(
                burst.account.phone_number_id, burst.account.access_token, burst.last.message_id
            )
        )
        reply = await self._run_graph(burst, prepared)
        await self.redis.set(
            Keys.reply(burst.last.message_id),
            json.dumps({"text": reply.text, "buttons": reply.buttons, "agent_id": reply.agent_id}),
            ex=self.reply_ttl_seconds,
        )
        return Done(reply)

    async def _take_back_from_person(self, burst: Burst) -> None:
        """After a handoff is resolved, the bot first reads what the customer and the person
        said meanwhile: the transcript joins the thread's state (as if the turn had ended with
        it), then the thread is the bot's again."""
        if self.handoff is None:
            return
        record = await self.handoff.record(burst.account.phone_number_id, burst.last.wa_id)
        if record.state != "resolved":
            return
        transcript = await self.handoff.store.transcript(record.thread_id)
        if transcript:
            # Each entry at most ~500 characters: the gist fits the history budget, and the
            # full text stays in the conversation log.
            messages: list[AnyMessage] = [
                HumanMessage(content=_gist(e.text), id=e.message_id)
                if e.role == "user"
                else AIMessage(content=_gist(e.text), name="human_agent", id=e.message_id)
                for e in transcript
            ]
            graph = await self.graph_for(burst.account)
            config: RunnableConfig = {"configurable": {"thread_id": record.thread_id}}
            await graph.aupdate_state(config, {"messages": messages}, as_node="compact_history")
            await self.handoff.store.clear_transcript(record.thread_id)
        await self.handoff.change(record, "bot")

    def _background(self, work: Awaitable[None]) -> None:
        async def quietly() -> None:
            with contextlib.suppress(Exception):
                await work

        task = asyncio.create_task(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def prune_checkpoints(self, burst: Burst) -> None:
        """Keep only the thread's latest checkpoint: each turn is replayed whole from the queue
        and logged in DynamoDB, so older checkpoints would only hold Redis memory until the
        session expires (about 35 KB a turn)."""
        graph = await self.graph_for(burst.account)
        saver = graph.checkpointer
        if not isinstance(saver, BaseCheckpointSaver):
            return
        try:
            await saver.aprune([burst.last.thread_id], strategy="keep_latest")
        except NotImplementedError:
            return
        except Exception as error:  # memory, not correctness: never fail a turn over it
            log.warning("old checkpoints not pruned", error=repr(error)[:200])

    # Helpers -------------------------------------------------------------------------------

    async def _run_graph(self, burst: Burst, prepared: Prepared) -> Reply:
        graph = await self.graph_for(burst.account)
        started = time.perf_counter()
        result = await run_turn(
            graph,
            phone_number_id=burst.account.phone_number_id,
            wa_id=burst.last.wa_id,
            texts=prepared.texts,
            message_ids=prepared.message_ids,
            message_types=prepared.types,
            reply_ids=prepared.reply_ids,
        )
        self.metrics.model_seconds.labels(model_id=result.model_id or "none").observe(
            time.perf_counter() - started
        )
        log.info(
            "turn answered",
            agent=result.agent_id,
            tools=result.tools,
            escalation=result.escalation_triggered,
        )
        text = result.reply
        if result.escalation_triggered and self.handoff is not None:
            reason = str(result.state.get("context_variables", {}).get("escalation_reason") or "")
            await self.handoff.escalate(
                burst.account.phone_number_id, burst.last.wa_id, reason, result.language
            )
            if not burst.account.open_at(datetime.now(UTC)):
                note = canned("outside_hours", result.language)
                text = f"{text}\n\n{note.format(hours=burst.account.hours_text())}".strip()
        return Reply(text, list(result.buttons), result.agent_id)

    async def _opted_in(self, account: str, wa_id: str) -> bool:
        """The user's opt-in state with this business account: DynamoDB is the record, Redis
        caches it for a day."""
        cached = await self.redis.get(Keys.opt_in(account, wa_id))
        if cached is not None:
            return bool(cached == b"1")
        opted_in = await self.stores.users.ais_opted_in(wa_id, account)
        await self.redis.set(Keys.opt_in(account, wa_id), int(opted_in), ex=86_400)
        return opted_in

    async def _set_opted_in(self, account: str, wa_id: str, opted_in: bool) -> None:
        await self.stores.users.aset_opted_in(wa_id, opted_in, account)
        await self.redis.set(Keys.opt_in(account, wa_id), int(opted_in), ex=86_400)

    async def _log_unanswered(self, items: list[InboundItem], reason: str) -> None:
        for item in items:
            await self.stores.conversations.aappend(
                ConversationMessage(
                    user_id=whatsapp_user_id(item.wa_id),
                    session_id=f"unanswered:{item.phone_number_id}",
                    business_account_id=item.phone_number_id,
                    message_id=item.message_id,
                    direction="inbound",
                    role="user",
                    message_type=item.type,
                    content=item.text or f"[{item.type}]",
                    metadata={"not_answered": reason},
                )
            )


def _gist(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def failed_reply(burst: Burst) -> Reply:
    return Reply(canned("failed", burst.language))
