"""Prometheus metrics of the channel (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per app, so several apps (tests) in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "wam_webhooks_total",
            "Webhook requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "wam_queue_depth", "Inbound entries not yet acknowledged", registry=self.registry
        )
        self.turn_seconds = Histogram(
            "wam_turn_seconds",
            "One turn: dequeue to reply sent",
            ["agent"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.model_seconds = Histogram(
            "wam_model_seconds",
            "Model calls",
            ["model_id"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.sends = Counter(
            "wam_sends_total", "Outbound messages by outcome", ["outcome"], registry=self.registry
        )
        self.sends_throttled = Counter(
            "wam_sends_throttled_total",
            "Sends that waited for the per-number pacer",
            registry=self.registry,
        )
        self.turns_in_flight = Gauge(
            "wam_turns_in_flight",
            "Customer threads this process is answering",
            registry=self.registry,
        )
        self.messages_waiting = Gauge(
            "wam_messages_waiting",
            "Inbound messages in this process's mailboxes, waiting for their turn",
            registry=self.registry,
        )
        self.message_wait_seconds = Histogram(
            "wam_message_wait_seconds",
            "From the webhook accepting a message to the start of the turn that answers it",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.model_calls_in_flight = Gauge(
            "wam_model_calls_in_flight",
            "Model calls running in this process",
            registry=self.registry,
        )
        self.model_calls_waiting = Gauge(
            "wam_model_calls_waiting",
            "Model calls queued behind MAX_MODEL_CALLS_IN_FLIGHT",
            registry=self.registry,
        )
        self.statuses = Counter(
            "wam_statuses_total", "Delivery statuses received", ["status"], registry=self.registry
        )
