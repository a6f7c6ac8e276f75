"""`Channel`: what the app and its workers share, built by `wam serve` / `wam worker` or tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graph import SupervisorDeps
from server.accounts import AccountRegistry
from server.config import ChannelConfig
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.outbox import LocalOutbox
from server.whatsapp import WhatsAppSender
from stores import Stores

DepsFactory = Callable[[Path | None], SupervisorDeps]


@dataclass
class Channel:
    """Everything the app and its workers share; built by `wam serve` / `wam worker` or tests."""

    config: ChannelConfig
    stores: Stores
    accounts: AccountRegistry
    deps_for: DepsFactory
    sender: WhatsAppSender
    outbox: LocalOutbox | None = None
    media: MediaStore | None = None
    transcriber: Transcriber | None = None
    metrics: Metrics = field(default_factory=Metrics)
