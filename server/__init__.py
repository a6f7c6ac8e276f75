"""The WhatsApp channel: FastAPI app, webhook, queue and workers, Graph API client, simulator."""

from server.accounts import AccountConfigError, AccountRegistry, BusinessAccount
from server.app import Channel, create_app, run_workers, running_channel
from server.config import ChannelConfig
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.whatsapp import GraphApiClient, LocalOutbox

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
