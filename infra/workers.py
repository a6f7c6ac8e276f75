"""`wam worker` on ECS Fargate against the SQS FIFO queue: the alternative to the orchestrator
Lambda for steady traffic (no cold starts, one process answering many threads at once).

The tasks run the functions' image with `wam worker`; they never create tables or buckets
(`PREPARE_ON_START=false`: the stack owns them), so their role grants none of that. The service
scales between `worker_min_tasks` and `worker_max_tasks` on the queue's backlog (messages waiting
plus those being answered) and on the age of its oldest message; a task stopped by a scale-in or
a deploy gets SIGTERM, stops receiving and finishes its turns (`SHUTDOWN_GRACE_SECONDS`, within
the container's stop timeout), handing back what it cannot finish.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StackConfig
from infra.functions import Image
from infra.network import Network

STOP_TIMEOUT_S = 120  # Fargate's maximum between SIGTERM and SIGKILL
SHUTDOWN_GRACE_S = 100
# Scaling: a backlog of this many messages (waiting or in flight) adds tasks; none removes one.
BACKLOG_STEPS = (50, 200)
WAITING_STEPS_S = (60, 180)  # the oldest message waiting this long adds tasks


def backlog(queue: sqs.IQueue) -> cloudwatch.MathExpression:
    """Messages waiting plus messages being answered (FIFO: a thread's later messages wait while
    one is in flight, so the visible count alone says nothing about the work)."""
    period = Duration.minutes(1)
    return cloudwatch.MathExpression(
        expression="visible + inflight",
        using_metrics={
            "visible": queue.metric_approximate_number_of_messages_visible(
                period=period, statistic="Maximum"
            ),
            "inflight": queue.metric_approximate_number_of_messages_not_visible(
                period=period, statistic="Maximum"
            ),
        },
        label="messages waiting or being answered",
        period=period,
    )


class Workers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        *,
        image: Image,
        network: Network,
        queue: sqs.IQueue,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = f"wam-{config.env_name}"
        self.cluster = ecs.Cluster(self, "Cluster", vpc=network.vpc)
        self.role = iam.Role(
            self,
            "worker-role",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="wam worker tasks: only what answering the queue needs",
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/ecs/{prefix}-worker",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY,
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            family=f"{prefix}-worker",
            cpu=config.worker_cpu,
            memory_limit_mib=config.worker_memory_mb,
            task_role=self.role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.container = task.add_container(
            "worker",
            image=image.container(),
            # The Lambda base image's entry point runs a handler; the package's `wam` script
            # was installed beside the code (pip --target /var/task).
            entry_point=["/var/task/bin/wam"],
            command=["worker", "--count", "1"],
            environment=environment
            | {
                "PYTHONPATH": "/var/task",
                "PREPARE_ON_START": "false",
                "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_S),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=log_group),
            stop_timeout=Duration.seconds(STOP_TIMEOUT_S),
            readonly_root_filesystem=False,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=f"{prefix}-worker",
            cluster=self.cluster,
            task_definition=task,
            desired_count=config.worker_min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            vpc_subnets=network.subnets,
            security_groups=[network.apps],
            assign_public_ip=network.assign_public_ip,
        )
        queue.grant_consume_messages(self.role)
        self._scaling(config, queue)

    def _scaling(self, config: StackConfig, queue: sqs.IQueue) -> None:
        capacity = self.service.auto_scale_task_count(
            min_capacity=config.worker_min_tasks, max_capacity=config.worker_max_tasks
        )
        low, high = BACKLOG_STEPS
        capacity.scale_on_metric(
            "Backlog",
            metric=backlog(queue),
            scaling_steps=[
                autoscaling.ScalingInterval(upper=0, change=-1),
                autoscaling.ScalingInterval(lower=low, change=+1),
                autoscaling.ScalingInterval(lower=high, change=+2),
            ],
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.minutes(3),
        )
        soon, late = WAITING_STEPS_S
        capacity.scale_on_metric(
            "Waiting",
            metric=queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            scaling_steps=[
                autoscaling.ScalingInterval(upper=soon, change=0),
                autoscaling.ScalingInterval(lower=soon, change=+1),
                autoscaling.ScalingInterval(lower=late, change=+2),
            ],
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.minutes(3),
        )
