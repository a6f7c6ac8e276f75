"""Bring a process up on the configured (or embedded) infrastructure, and take it down again.

`running_stack()` is what every long-lived command uses: it starts the embedded servers the settings
leave unconfigured, creates the tables and bucket, seeds the demo data on an embedded stack, checks
that Redis can hold checkpoints, and on the way out (exit, Ctrl-C, SIGTERM) stops what it started.
"""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import FrameType

import structlog
from redis import Redis

from agents import load_agents
from agents.schema import ProviderName
from app.localstack import LocalStack
from app.logging import configure_logging
from app.settings import Settings, get_settings
from app.wiring import (
    agents_dir,
    build_deps,
    demo_billing_api,
    index_bundled_knowledge,
    model_override,
)
from checkpointers import check_redis_modules, redact_url
from graph import SupervisorDeps
from stores import Stores, aws_client, ensure_bucket, seed_demo

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    stores: Stores
    stack: LocalStack

    @property
    def redis_url(self) -> str:
        assert self.settings.redis_url is not None
        return self.settings.redis_url

    @property
    def model_override(self) -> ProviderName | None:
        real = self.stack.real_aws_credentials and not self.stack.embedded_aws
        return model_override(self.settings, real_aws_credentials=real)

    def supervisor_deps(self, folder: Path | None = None) -> SupervisorDeps:
        """Agents (of `folder`, default `AGENTS_DIR`), models, tools and stores; the folder's
        bundled KB documents are indexed on first use."""
        settings = self.settings
        if folder is not None:
            settings = settings.model_copy(update={"agents_dir": folder})
        redis = Redis.from_url(self.redis_url)
        agents = load_agents(agents_dir(settings))
        index_bundled_knowledge(settings, redis, agents)
        return build_deps(
            settings, stores=self.stores, redis=redis, override=self.model_override, agents=agents
        )


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C so `finally` blocks (which stop child servers) run.

    Only the main thread may set signal handlers; elsewhere (a server loading graphs in a worker
    thread) the host process owns its signals and exit handlers stop the servers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def prepare_data(settings: Settings, stores: Stores, *, seed: bool) -> None:
    """Tables, bucket, and (when asked) the demo customers: idempotent."""
    stores.init_tables()
    ensure_bucket(aws_client("s3", settings.aws_region), settings.s3_bucket, settings.aws_region)
    if seed:
        levels, customers = seed_demo(stores.customers)
        log.info("demo data seeded", service_levels=levels, customers=customers)


@contextmanager
def running_stack(settings: Settings, *, prepare: bool = True) -> Iterator[Runtime]:
    with sigterm_as_interrupt(), LocalStack(settings) as stack, demo_billing_api():
        settings = stack.settings
        assert settings.redis_url is not None
        client = Redis.from_url(settings.redis_url)
        try:
            check_redis_modules(client, settings.redis_url)
        finally:
            client.close()
        log.info("redis ready", url=redact_url(settings.redis_url))
        stores = Stores.connect(
            settings.aws_region,
            settings.table_prefix,
            settings.conversation_ttl_days,
            default_account=settings.whatsapp_phone_number_id,
        )
        if prepare and settings.prepare_on_start:
            prepare_data(settings, stores, seed=stack.aws is not None)  # the owner seeds
        yield Runtime(settings=settings, stores=stores, stack=stack)


_process_stack = ExitStack()


@lru_cache(maxsize=1)
def process_deps() -> SupervisorDeps:
    """One stack and one set of deps for the whole process, stopped at exit.

    For hosts that import graph modules several times (`langgraph dev` loads the graph file once
    per graph it serves).
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    runtime = _process_stack.enter_context(running_stack(settings))
    atexit.register(_process_stack.close)
    return runtime.supervisor_deps()
