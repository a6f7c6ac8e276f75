"""HTTP limits for `wam serve`: what uvicorn accepts before the app sees a request.

- a request head (request line and headers) of at most 16 KiB, so a 32 MiB header or 20,000
  headers are refused with 431, whether they arrive in pieces or at once;
- a deadline for the head: a client must send a complete request head within
  `HEAD_TIMEOUT_S` of connecting (or of its previous response), or the connection is closed, so
  slow-loris clients cannot hold connections open;
- at most `MAX_CONNECTIONS` connections at once (503 beyond), and keep-alive of 5 s.

A reverse proxy or API Gateway in front adds its own limits; these hold without one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 2000


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head."""

    head_timeout_s = HEAD_TIMEOUT_S
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    _head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_too_large(data):
            return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head arrived
            self._disarm_head_deadline()
            self._head_bytes = 0

    def _head_too_large(self, data: bytes) -> bool:
        """Count the bytes of the head still arriving; refuse (431) one over the limit, whether
        it comes in pieces or all at once."""
        end = data.find(b"\r\n\r\n")
        self._head_bytes += len(data) if end < 0 else end
        if self._head_bytes <= MAX_HEAD_BYTES:
            return False
        body = b"request headers are too large\n"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def server_limits() -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`."""
    return {
        "http": GuardedH11Protocol,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": MAX_CONNECTIONS,
        "timeout_keep_alive": 5,
    }
