"""The conversation log in DynamoDB: one item per inbound and per outbound message.

Appends are idempotent on `message_id`: a guard item (`user_id = "msgid#<message_id>"`) is claimed
with a conditional put before the message is written, so a webhook delivered twice is logged
once. The guard also records the message's key, which finds a message by its id (for
delivery statuses) without a scan. Sort keys are ISO-8601 UTC with milliseconds; two messages of one
user in the same millisecond get consecutive milliseconds.

Every method has an `a`-prefixed twin that runs the boto3 call in a worker thread, so an async
caller's event loop never blocks on DynamoDB.

The store remembers the last few thousand messages it logged itself (their key and what was
written), so a turn does not read back what it has just written: `mark_sent` after the send finds
the reply's key in memory, and the profile update reads the logged reply from memory (`logged`).
A message's key never changes once logged; only erasure removes it (and forgets it here).

Modules, one concern each: `memory` (the messages this process logged), `table` (the table, its
guard items and keys), `writes` (idempotent appends), `delivery` (delivery statuses and Meta's
ids), `reads` (single messages and histories), `erasure` (a user's messages and guards deleted)
and `store` (`ConversationStore`: all of them, with their async twins).
"""

from __future__ import annotations

from stores.conversations.store import ConversationStore

__all__ = ["ConversationStore"]
