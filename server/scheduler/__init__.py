"""The turn scheduler: many customers at once, one turn at a time per customer.

One scheduler per process reads the inbound stream and runs up to `max_concurrent_turns` customer
threads (`<phone_number_id>:<wa_id>`) concurrently, each in its own task, so no customer waits
behind another customer's turn, burst window or retry. When every slot is taken it stops reading
(backpressure): entries stay in the stream for this or another process.

Per thread, across processes:
- every entry read goes into the thread's mailbox (a sorted set of stream ids);
- whoever holds the thread's lock answers everything in the mailbox as one turn, after the burst
  window: messages that arrive within `burst_window_ms` of the newest one (the webhook records the
  newest entry per thread, read or not) or while a turn runs join the next turn;
- the lock is released only when the mailbox is empty (atomically), and whoever adds an entry after
  that takes the lock, so no entry is left behind;
- entries are acknowledged (and deleted from the stream) only after the reply is sent and the turn
  logged; a dead process's entries are claimed by another after the visibility timeout
  (`XAUTOCLAIM`) and replayed (the reply cache and the sent record keep the model from running
  twice and the customer from getting two replies).

Graceful stop: reading stops, turns in progress finish within `shutdown_grace_s`, threads not yet
started are left to the other processes (their entries are claimed after the visibility timeout).

Modules: `settings` (the scheduler's settings and the callbacks it runs), `burst` (the burst
window: when a thread's mailbox is ready to be answered), `threads` (`ThreadMailboxes`: entries
mailed to their threads, each thread served under its lock, a turn answered and acknowledged) and
`loops` (`TurnScheduler`: the process-level read and claim loops, and the graceful stop).
"""

from __future__ import annotations

from server.scheduler.loops import TurnScheduler
from server.scheduler.settings import AbandonFn, AnswerFn, PermanentFn, SchedulerSettings

__all__ = ["AbandonFn", "AnswerFn", "PermanentFn", "SchedulerSettings", "TurnScheduler"]
