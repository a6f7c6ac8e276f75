"""The messages this process logged itself, kept in memory so a turn never reads them back.

Bounded (least recently logged forgotten first) and thread-safe: the store's sync methods run in
worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from stores.models import ConversationMessage

REMEMBERED = 4096  # messages logged by this process whose key is kept in memory


class LoggedMessages:
    """The last `capacity` messages logged by this process, by `message_id`, as written."""

    def __init__(self, capacity: int = REMEMBERED) -> None:
        self._capacity = capacity
        self._logged: OrderedDict[str, ConversationMessage] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, message: ConversationMessage) -> None:
        with self._lock:
            self._logged[message.message_id] = message
            self._logged.move_to_end(message.message_id)
            while len(self._logged) > self._capacity:
                self._logged.popitem(last=False)

    def recall(self, message_id: str) -> ConversationMessage | None:
        with self._lock:
            return self._logged.get(message_id)

    def forget_user(self, user_id: str) -> None:
        """Drop every remembered message of `user_id` (after their erasure)."""
        with self._lock:
            for message_id in [k for k, m in self._logged.items() if m.user_id == user_id]:
                del self._logged[message_id]
