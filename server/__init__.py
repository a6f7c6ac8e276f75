"""The WhatsApp channel: FastAPI app, webhook, queue and workers, Graph API client, simulator."""

from server.app import create_app

__all__ = ["create_app"]
