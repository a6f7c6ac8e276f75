"""CloudWatch alarms, each to one SNS topic: function errors, webhook latency, messages in the
dead-letter queue, the age of the oldest waiting message, Bedrock throttling."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StackConfig

FIVE_MINUTES = Duration.minutes(5)
WEBHOOK_P95_MS = 2000  # Meta waits about 20 s; ours answers after one enqueue
OLDEST_MESSAGE_S = 300


class Alarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name=f"wam {config.env_name} alarms")
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        what: str,
        *,
        below: bool = False,
        periods: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        comparison = (
            cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
            if below
            else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        )
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            alarm_description=what,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    def function_errors(self, name: str, function: lambda_.IFunction) -> None:
        metric = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
        self._alarm(f"{name}-errors", metric, 1, f"{name} raised errors")

    def webhook_latency(self, api: apigw.HttpApi) -> None:
        metric = api.metric_latency(period=FIVE_MINUTES, statistic="p95")
        what = f"webhook p95 latency of {WEBHOOK_P95_MS} ms or more"
        self._alarm("webhook-latency", metric, WEBHOOK_P95_MS, what)

    def queues(self, inbound: sqs.IQueue, dead_letters: sqs.IQueue) -> None:
        depth = dead_letters.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        self._alarm("dlq-depth", depth, 1, "messages in the dead-letter queue (never answered)")
        age = inbound.metric_approximate_age_of_oldest_message(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        what = f"a customer message waiting {OLDEST_MESSAGE_S} s or more"
        self._alarm("oldest-message", age, OLDEST_MESSAGE_S, what)

    def bedrock_throttling(self, model_id: str) -> None:
        metric = cloudwatch.Metric(
            namespace="AWS/Bedrock",
            metric_name="InvocationThrottles",
            dimensions_map={"ModelId": model_id},
            period=FIVE_MINUTES,
            statistic="Sum",
        )
        self._alarm("bedrock-throttling", metric, 1, f"Bedrock throttled calls to {model_id}")

    def workers(self, service: ecs.FargateService) -> None:
        """The Fargate workers: CPU or memory saturated for 15 minutes, or no task running at all
        (crashing at start: a bad image, an unreachable Redis). ECS reports a service's CPU once a
        minute while any task runs, so no data means none does (no Container Insights needed)."""
        cpu = service.metric_cpu_utilization(period=FIVE_MINUTES, statistic="Average")
        self._alarm("worker-cpu", cpu, 85, "worker tasks at 85 % CPU or more", periods=3)
        memory = service.metric_memory_utilization(period=FIVE_MINUTES, statistic="Average")
        self._alarm("worker-memory", memory, 85, "worker tasks at 85 % memory or more", periods=3)
        reporting = service.metric_cpu_utilization(period=FIVE_MINUTES, statistic="SampleCount")
        self._alarm(
            "worker-none-running",
            reporting,
            1,
            "no worker task running (nothing answers the queue)",
            below=True,
            periods=2,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
