"""The whole deployment as one stack: the infrastructure document's shape, defined as code.

API Gateway (HTTP API) → `whatsapp-webhook-handler` → SQS FIFO (+ DLQ) → `message-orchestrator`
(the supervisor graph on Bedrock, Redis checkpoints, DynamoDB log) → Graph API; voice notes through
`voice-processor` (Amazon Transcribe); documents put under `kb-documents/` through
`knowledge-base-manager`. Secrets in Secrets Manager, alarms in CloudWatch, one role per function.
Context `orchestrator=fargate` answers the queue with `wam worker` tasks on ECS Fargate instead of
the orchestrator Lambda; `vpc=true` adds a VPC with ElastiCache for Valkey, everything inside it.
"""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as notifications
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.accounts import deployed_accounts, merged_secret_env
from infra.alarms import Alarms
from infra.api import WebhookApi
from infra.config import StackConfig
from infra.data import DataStores
from infra.functions import (
    ROOT,
    Functions,
    FunctionSpec,
    Image,
    bedrock_statements,
    social_messaging_statement,
    transcribe_statement,
)
from infra.network import ManagedRedis, Network
from infra.queues import InboundQueues
from infra.secrets import WhatsAppSecrets
from infra.workers import Workers

KB_PREFIX = "kb-documents/"


class WhatsAppStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig) -> None:
        super().__init__(
            scope, construct_id, description=f"whatsapp-multiagent ({config.env_name})"
        )
        self.config = config
        self.accounts = deployed_accounts(config, ROOT)
        self.network: Network | None = None
        if config.vpc or config.orchestrator == "fargate":
            self.network = Network(self, "Network", config, private=config.vpc)
        self.redis: ManagedRedis | None = None
        if self.network is not None and config.vpc:
            self.redis = ManagedRedis(self, "Redis", config, self.network)
            redis_url = self.redis.url
        else:
            redis_url = CfnParameter(
                self,
                "RedisUrl",
                no_echo=True,
                description="Redis with RedisJSON and RediSearch (rediss://user:pass@host:port/0)",
                allowed_pattern=r"^(redis|rediss)://.+$",
            ).value_as_string
        phone_number_id = CfnParameter(
            self, "PhoneNumberId", description="The WhatsApp business phone number id"
        )
        self.data = DataStores(self, "Data", config)
        self.queues = InboundQueues(self, "Queues", config)
        self.voice_queue = sqs.Queue(
            self,
            "VoiceNotes",
            visibility_timeout=Duration.minutes(15 * 6),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=3, queue=self.queues.dead_letters_standard(self)
            ),
        )
        self.secrets = WhatsAppSecrets(self, "Secrets", config)
        self.image = Image(self, "Image", self.accounts.folder if self.accounts else None)
        self.functions = Functions(
            self, "Functions", config, self.image, self.network if config.vpc else None
        )
        common = {
            "TABLE_PREFIX": config.table_prefix,
            "S3_BUCKET": self.data.bucket.bucket_name,
            "REDIS_URL": redis_url,
            "QUEUE_BACKEND": "sqs",
            "SQS_QUEUE_URL": self.queues.inbound.queue_url,
            "SQS_VOICE_QUEUE_URL": self.voice_queue.queue_url,
            "SQS_MAX_RECEIVES": str(config.max_receives),
            "WHATSAPP_PHONE_NUMBER_ID": phone_number_id.value_as_string,
            "WHATSAPP_API_BASE_URL": config.graph_api_base_url,
            "MODEL_PROVIDER": "bedrock",
            "BURST_WINDOW_MS": str(config.burst_window_ms),
            "LOG_FORMAT": "json",
        }
        if self.accounts:
            common["BUSINESS_ACCOUNTS_FILE"] = self.accounts.file_in_image
        self._webhook(common)
        self._orchestrator(common)
        self._voice(common)
        self._kb_manager(common)
        self._eum_events(common)
        self._daily_jobs(common)
        if config.orchestrator == "lambda":  # the Fargate workers run the timers themselves
            self._handoff_timers(common)
        self.api = WebhookApi(
            self, "Api", self.functions.functions["whatsapp-webhook-handler"], config.env_name
        )
        self._alarms()
        CfnOutput(self, "WebhookUrl", value=self.api.webhook_url)
        CfnOutput(self, "InboundQueueUrl", value=self.queues.inbound.queue_url)
        CfnOutput(self, "DataBucket", value=self.data.bucket.bucket_name)
        if self.redis is not None:
            CfnOutput(self, "RedisEndpoint", value=self.redis.group.attr_primary_end_point_address)
        if config.orchestrator == "fargate":
            CfnOutput(self, "WorkerService", value=self.workers.service.service_name)
        for name, secret in self.secrets.secrets.items():
            CfnOutput(self, f"Secret-{name.replace('_', '-')}", value=secret.secret_arn)

    def _webhook(self, common: dict[str, str]) -> None:
        function = self.functions.add(
            FunctionSpec(
                "whatsapp-webhook-handler",
                self.config.webhook_memory_mb,
                30,
                common | self.secrets.environment("app_secret", "verify_token"),
            )
        )
        role = self.functions.roles["whatsapp-webhook-handler"]
        self.queues.inbound.grant_send_messages(role)
        self.voice_queue.grant_send_messages(role)
        self.data.tables["conversations"].grant_read_write_data(role)  # delivery statuses
        for name in ("app_secret", "verify_token"):
            self.secrets.secrets[name].grant_read(role)
        del function

    def _secret_env(self, role: iam.IGrantable, *, integrations: bool) -> dict[str, str]:
        """SECRET_ENV_ARNS for a process that calls the Graph API (the accounts' tokens) and, with
        `integrations`, runs the agents' integrations; its role may read exactly those."""
        mappings = [self.accounts.token_arns if self.accounts else {}]
        if integrations and self.config.secret_env_arns:
            mappings.append(json.loads(self.config.secret_env_arns))
        value = merged_secret_env(*mappings)
        if value is None:
            return {}
        role.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=sorted(set(json.loads(value).values())),
            )
        )
        return {"SECRET_ENV_ARNS": value}

    def _orchestrator(self, common: dict[str, str]) -> None:
        environment = common | self.secrets.environment("access_token")
        if self.config.orchestrator == "fargate":
            assert self.network is not None
            self.workers = Workers(
                self,
                "Workers",
                self.config,
                image=self.image,
                network=self.network,
                queue=self.queues.inbound,
                environment=environment,
            )
            for name, value in self._secret_env(self.workers.role, integrations=True).items():
                self.workers.container.add_environment(name, value)
            self._grant_answering(self.workers.role)
            return
        function = self.functions.add(
            FunctionSpec(
                "message-orchestrator",
                self.config.orchestrator_memory_mb,
                self.config.turn_budget_seconds,
                environment,
            )
        )
        role = self.functions.roles["message-orchestrator"]
        function.add_event_source(
            sources.SqsEventSource(
                self.queues.inbound, batch_size=10, report_batch_item_failures=True
            )
        )
        for name, value in self._secret_env(role, integrations=True).items():
            function.add_environment(name, value)
        self._grant_answering(role)

    def _grant_answering(self, role: iam.Role) -> None:
        """What answering a turn needs, for the orchestrator Lambda or the worker tasks."""
        for name, table in self.data.tables.items():
            if name == "service-levels":
                table.grant_read_data(role)
            else:
                table.grant_read_write_data(role)
        self.data.bucket.grant_put(role, "media/*")
        self.data.bucket.grant_put(role, "media-index/*")  # whose media it is (erasure finds it)
        self.data.bucket.grant_read(role, "transcripts/*")
        self.secrets.secrets["access_token"].grant_read(role)
        self.data.bucket.grant_read(role, "media/eum/*")  # End User Messaging's media copies
        self.data.bucket.grant_delete(role, "media/eum/*")  # ... deleted once stored
        for statement in [
            *bedrock_statements(self),
            transcribe_statement(),
            social_messaging_statement(self),
        ]:
            role.add_to_policy(statement)

    def _voice(self, common: dict[str, str]) -> None:
        function = self.functions.add(
            FunctionSpec(
                "voice-processor",
                512,
                15 * 60,
                common | self.secrets.environment("access_token") | {"TRANSCRIBE_ENABLED": "true"},
            )
        )
        role = self.functions.roles["voice-processor"]
        for name, value in self._secret_env(role, integrations=False).items():
            function.add_environment(name, value)  # the accounts' tokens: media downloads
        function.add_event_source(
            sources.SqsEventSource(self.voice_queue, batch_size=1, report_batch_item_failures=True)
        )
        self.queues.inbound.grant_send_messages(role)
        self.data.bucket.grant_put(role, "media/*")
        self.data.bucket.grant_put(role, "media-index/*")  # the note and its transcript, by sender
        self.data.bucket.grant_read(role, "media/*")
        self.data.bucket.grant_read_write(role, "transcripts/*")
        self.secrets.secrets["access_token"].grant_read(role)
        role.add_to_policy(transcribe_statement())
        # Transcribe reads the voice note and writes the transcript as the caller.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.data.bucket.arn_for_objects("*")],
                conditions={"StringEquals": {"aws:CalledVia": ["transcribe.amazonaws.com"]}},
            )
        )

    def _kb_manager(self, common: dict[str, str]) -> None:
        function = self.functions.add(FunctionSpec("knowledge-base-manager", 1024, 5 * 60, common))
        role = self.functions.roles["knowledge-base-manager"]
        self.data.bucket.grant_read(role, f"{KB_PREFIX}*")
        self.data.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            notifications.LambdaDestination(function),
            s3.NotificationKeyFilter(prefix=KB_PREFIX),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["bedrock:StartIngestionJob"],
                resources=[f"arn:aws:bedrock:{self.region}:{self.account}:knowledge-base/*"],
            )
        )

    def _eum_events(self, common: dict[str, str]) -> None:
        """AWS End User Messaging Social publishes its numbers' WhatsApp events to this topic
        (set it as the event destination of the linked business account)."""
        self.eum_topic = sns.Topic(self, "EumEvents", display_name="End User Messaging WhatsApp")
        function = self.functions.add(
            FunctionSpec("eum-events-handler", self.config.webhook_memory_mb, 30, common)
        )
        role = self.functions.roles["eum-events-handler"]
        self.eum_topic.add_subscription(subscriptions.LambdaSubscription(function))
        self.queues.inbound.grant_send_messages(role)
        self.voice_queue.grant_send_messages(role)
        self.data.tables["conversations"].grant_read_write_data(role)  # delivery statuses
        CfnOutput(self, "EumEventsTopic", value=self.eum_topic.topic_arn)

    def _daily_jobs(self, common: dict[str, str]) -> None:
        """The daily Parquet export and analytics, at 02:30 UTC for the day before."""
        function = self.functions.add(FunctionSpec("daily-jobs", 2048, 15 * 60, common))
        role = self.functions.roles["daily-jobs"]
        self.data.tables["conversations"].grant_read_data(role)
        self.data.bucket.grant_read_write(role, "conversations/*")
        self.data.bucket.grant_put(role, "analytics/*")
        events.Rule(
            self,
            "DailyJobsSchedule",
            description="daily export and analytics of the day before",
            schedule=events.Schedule.cron(minute="30", hour="2"),
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
        )

    def _handoff_timers(self, common: dict[str, str]) -> None:
        """The human-handoff timers, one pass a minute: the update to a customer waiting for a
        person, the return to the bot of a thread a person left idle. Passes that overlap are
        safe (each action is claimed in Redis first); a failed pass is not retried, the next
        minute's is the retry. It reads the handoff state in Redis, logs the changes in the
        conversations table and sends with the access tokens."""
        function = self.functions.add(
            FunctionSpec(
                "handoff-timers", 512, 120, common | self.secrets.environment("access_token")
            )
        )
        role = self.functions.roles["handoff-timers"]
        for name, value in self._secret_env(role, integrations=False).items():
            function.add_environment(name, value)  # the accounts' tokens
        self.secrets.secrets["access_token"].grant_read(role)
        self.data.tables["conversations"].grant_read_write_data(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["social-messaging:SendWhatsAppMessage"],
                resources=[
                    f"arn:aws:social-messaging:{self.region}:{self.account}:phone-number-id/*"
                ],
            )
        )
        events.Rule(
            self,
            "HandoffTimersSchedule",
            description="human-handoff timers: waiting updates, idle threads back to the bot",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(function, retry_attempts=0)],
        )

    def _alarms(self) -> None:
        alarms = Alarms(self, "Alarms", self.config)
        for name, function in self.functions.functions.items():
            alarms.function_errors(name, function)
        alarms.webhook_latency(self.api.api)
        alarms.queues(self.queues.inbound, self.queues.dead_letters)
        alarms.bedrock_throttling(self.config.bedrock_model_id)
        if self.config.orchestrator == "fargate":
            alarms.workers(self.workers.service)
        self.alarms = alarms
