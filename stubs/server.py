"""A uvicorn server on a loopback port in a daemon thread: how local stand-ins are served."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from checkpointers import free_loopback_port


class BackgroundServer:
    """A uvicorn server on a loopback port in a daemon thread of this process."""

    def __init__(self, app: FastAPI, port: int | None = None, **options: Any) -> None:
        """`options`: more `uvicorn.Config` settings (limits, protocol classes)."""
        self.port = port or free_loopback_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=2,
            **options,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"{app.title}-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not start on {self.url}")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
