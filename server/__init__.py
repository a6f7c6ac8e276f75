"""The WhatsApp channel: FastAPI app, webhook, queue and workers, Graph API client, simulator.

Names are imported on first use, so that `import server.notifications` (the webhook Lambda) does
not load the graph, the models and FastAPI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.accounts import AccountConfigError, AccountRegistry, BusinessAccount
    from server.app import create_app
    from server.channel import Channel
    from server.config import ChannelConfig
    from server.media import MediaStore, Transcriber
    from server.metrics import Metrics
    from server.outbox import LocalOutbox
    from server.whatsapp import GraphApiClient
    from server.wiring import run_workers, running_channel

_WHERE = {
    "AccountConfigError": "server.accounts",
    "AccountRegistry": "server.accounts",
    "BusinessAccount": "server.accounts",
    "Channel": "server.channel",
    "create_app": "server.app",
    "run_workers": "server.wiring",
    "running_channel": "server.wiring",
    "ChannelConfig": "server.config",
    "MediaStore": "server.media",
    "Transcriber": "server.media",
    "Metrics": "server.metrics",
    "GraphApiClient": "server.whatsapp",
    "LocalOutbox": "server.outbox",
}

__all__ = [
    "AccountConfigError",
    "AccountRegistry",
    "BusinessAccount",
    "Channel",
    "ChannelConfig",
    "GraphApiClient",
    "LocalOutbox",
    "MediaStore",
    "Metrics",
    "Transcriber",
    "create_app",
    "run_workers",
    "running_channel",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'server' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
