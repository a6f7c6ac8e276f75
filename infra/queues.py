"""The inbound SQS FIFO queue and its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StackConfig


class InboundQueues(Construct):
    """`inbound.fifo` (MessageGroupId = customer thread, deduplicated by WhatsApp message id, the
    visibility timeout tied to the turn budget) and `inbound-dlq.fifo` after `max_receives`."""

    def __init__(self, scope: Construct, construct_id: str, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            fifo=True,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=removal,
        )
        self.inbound = sqs.Queue(
            self,
            "Inbound",
            fifo=True,
            content_based_deduplication=False,
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            visibility_timeout=Duration.seconds(config.visibility_timeout_seconds),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=config.max_receives, queue=self.dead_letters
            ),
            removal_policy=removal,
        )

    def dead_letters_standard(self, scope: Construct) -> sqs.Queue:
        """A standard dead-letter queue for the (standard) voice-note queue."""
        return sqs.Queue(
            scope,
            "VoiceDeadLetters",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
