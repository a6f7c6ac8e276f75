"""A scenario both queue backends must pass: a `wam worker` process killed with `kill -9` while
it sends a reply is replaced, and the replacement answers the customer exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

from stubs.graph_api import sent_to
from tests.integration.conftest import WAM, new_wa_id
from tests.integration.whatsapp import message, payload, post, wait_for


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*WAM, "worker", "--count", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def killed_mid_send_answers_once(
    api_url: str, stub: Any, env: dict[str, str], timeout: float = 60.0
) -> tuple[str, list[dict[str, Any]]]:
    """The customer's number and the replies they got: the first worker dies during its send
    (the Graph API stub never answers it); the replacement takes the message over once the queue
    gives it back, and a later message gets one more reply, not two."""
    wa_id = new_wa_id()
    stub.state.hang_seconds = 60.0  # the first send never completes: the worker dies during it
    victim = start_worker(env)
    replacement = None
    try:
        requests = stub.state.requests
        post(api_url, payload(message(wa_id, text={"body": "When is my payment due?"})))
        wait_for(
            lambda: stub.state.hang_seconds == 0.0 and stub.state.requests > requests,
            timeout=timeout,
            what="the first worker to start sending",
        )
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        replacement = start_worker(env)
        first = wait_for(
            lambda: sent_to(stub, wa_id), timeout=timeout, what="the replacement's reply"
        )
        assert len(first) == 1
        post(api_url, payload(message(wa_id, text={"body": "thanks"})))
        wait_for(lambda: len(sent_to(stub, wa_id)) == 2, timeout=30, what="a later reply")
        replies = sent_to(stub, wa_id)
        assert len(replies) == 2, "the first message was answered twice"
        return wa_id, replies
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        if replacement is not None:
            os.killpg(replacement.pid, signal.SIGTERM)
            replacement.wait(timeout=30)
